import { networkInterfaces } from 'node:os';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { AppConfigInput } from '../src/config/config-schema.js';
import { createLogger } from '../src/observability/logger.js';
import { startTestApp } from './support/app-harness.js';
import { runProcess } from './support/run-process.js';

const python = '/usr/bin/python3';

/**
 * A listen address that is not loopback, reached from this machine only: one of its own interface
 * addresses (traffic to it never leaves the machine), or the wildcard, reached via 127.0.0.1.
 */
function nonLoopbackListener(): { readonly bindHost: string; readonly connectHost: string } {
  const own = Object.values(networkInterfaces())
    .flat()
    .find((address) => address !== undefined && address.family === 'IPv4' && !address.internal);
  return own === undefined
    ? { bindHost: '0.0.0.0', connectHost: '127.0.0.1' }
    : { bindHost: own.address, connectHost: own.address };
}

/** EHLO, AUTH PLAIN in clear, then STARTTLS (when offered) and AUTH PLAIN again: one line per step. */
const authScript = (host: string, port: number) => `
import smtplib, ssl, base64
context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
credentials = base64.b64encode(b'\\0app\\0s3cret').decode()
smtp = smtplib.SMTP('${host}', ${port})
smtp.ehlo()
print('clear offered', smtp.esmtp_features.get('auth', '').strip())
code, text = smtp.docmd('AUTH', 'PLAIN ' + credentials)
print('clear', code, text.decode())
if code != 235 and smtp.has_extn('starttls'):
    smtp.starttls(context=context)
    smtp.ehlo()
    print('tls offered', smtp.esmtp_features.get('auth', '').strip())
    code, text = smtp.docmd('AUTH', 'PLAIN ' + credentials)
    print('tls', code)
smtp.quit()
`;

describe('plaintext AUTH on a non-loopback listener', () => {
  let stop: (() => Promise<void>) | null = null;
  afterEach(async () => {
    await stop?.();
    stop = null;
  });

  const start = async (auth: NonNullable<AppConfigInput['smtp']>['auth'], starttls: boolean) => {
    const listener = nonLoopbackListener();
    const logLines: string[] = [];
    const logStream = new PassThrough();
    logStream.on('data', (chunk: Buffer) => logLines.push(...chunk.toString().split('\n').filter(Boolean)));
    const harness = await startTestApp(
      {
        smtp: {
          host: listener.bindHost,
          auth: { users: [{ username: 'app', password: 's3cret' }], ...auth },
          tls: { starttls },
        },
      },
      { logger: createLogger('warn', logStream) },
    );
    stop = harness.stop;
    const result = await runProcess(python, ['-c', authScript(listener.connectHost, harness.smtpPort)]);
    expect(result.stderr).toBe('');
    return { stdout: result.stdout, logLines };
  };

  it('by default offers PLAIN/LOGIN only under TLS (RFC 4954 §4), as smtp serve does', async () => {
    const { stdout, logLines } = await start({}, true);
    expect(stdout).toMatch(/^clear offered SCRAM-SHA-256 CRAM-MD5$/m);
    expect(stdout).toMatch(/^clear 5\d\d 5\.7\.\d+ /m);
    expect(stdout).toMatch(/^tls offered .*PLAIN LOGIN$/m);
    expect(stdout).toMatch(/^tls 235$/m);
    expect(logLines.join('\n')).not.toContain('AUTH PLAIN/LOGIN allowed before TLS');
  });

  it('also without STARTTLS: no password crosses the network in clear', async () => {
    const { stdout } = await start({}, false);
    expect(stdout).toMatch(/^clear 5\d\d 5\.7\.\d+ /m);
    expect(stdout).not.toMatch(/^clear 235/m);
  });

  it('smtp.auth.allowPlaintext: true allows it, with a warning at start', async () => {
    const { stdout, logLines } = await start({ allowPlaintext: true }, true);
    expect(stdout).toMatch(/^clear offered .*PLAIN LOGIN$/m);
    expect(stdout).toMatch(/^clear 235 /m);
    const warning = logLines.map((line) => JSON.parse(line) as { level: number; msg: string });
    expect(warning).toContainEqual(
      expect.objectContaining({
        level: 40,
        msg: expect.stringContaining('AUTH PLAIN/LOGIN allowed before TLS'),
      }),
    );
  });
});
