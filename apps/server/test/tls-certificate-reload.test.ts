import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { renameSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { dirname, join } from 'node:path';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { requireTool } from '@smtp/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp } from './support/app-harness.js';
import { temporaryDirectory } from './support/messages.js';
import { waitUntil } from './support/shared-queue.js';

const run = promisify(execFile);
const appRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const mainScript = join(appRoot, 'dist/main.js');
const openssl = requireTool('/usr/bin/openssl', 'apt-get install openssl');

/** A self-signed P-256 certificate for `name`, valid `days`, written as <name>.cert.pem / .key.pem. */
function makeCertificate(directory: string, name: string, days: number): { cert: string; key: string } {
  const cert = join(directory, `${name}.cert.pem`);
  const key = join(directory, `${name}.key.pem`);
  execFileSync(
    openssl,
    [
      ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'],
      ...['-keyout', key, '-out', cert, '-days', String(days), '-subj', `/CN=${name}`],
      ...['-addext', `subjectAltName=DNS:${name}`],
    ],
    { stdio: 'ignore' },
  );
  return { cert, key };
}

/** Puts a pair where the config points, as a renewal does: each file replaced whole (rename). */
function install(
  pair: { cert: string; key: string },
  target: { cert: string; key: string },
  which = ['cert', 'key'],
) {
  for (const part of which as ('cert' | 'key')[]) {
    const temporary = `${target[part]}.new`;
    writeFileSync(temporary, execFileSync('cat', [pair[part]]));
    renameSync(temporary, target[part]);
  }
}

/** The CN of the certificate `openssl s_client` is shown after STARTTLS on an SMTP port. */
async function startTlsSubject(port: number): Promise<string> {
  const { stdout } = await run('sh', [
    '-c',
    `echo QUIT | ${openssl} s_client -starttls smtp -connect 127.0.0.1:${port} -brief 2>&1 | grep -i 'peer certificate' || true`,
  ]);
  return /CN\s*=\s*([\w.-]+)/.exec(stdout)?.[1] ?? stdout;
}

/** An implicit-TLS connection (SMTPS or HTTPS), left open; its certificate's CN. */
function implicitTls(port: number): Promise<{ socket: TLSSocket; subject: string }> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () =>
      resolve({ socket, subject: String(socket.getPeerCertificate().subject.CN) }),
    );
    socket.once('error', reject);
  });
}

function httpsSubject(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = httpsRequest(
      { host: '127.0.0.1', port, path: '/api/v1/info', rejectUnauthorized: false, agent: false },
      (response) => {
        const subject = String((response.socket as TLSSocket).getPeerCertificate().subject.CN);
        response.resume();
        response.on('end', () => resolve(subject));
      },
    );
    request.once('error', reject);
    request.end();
  });
}

/** Reads what an open SMTPS session answers to one command: it must still work after a reload. */
function command(socket: TLSSocket, line: string): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const onData = (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (/^\d{3} [^\r\n]*\r\n/m.test(text)) {
        socket.off('data', onData);
        resolve(text);
      }
    };
    socket.on('data', onData);
    socket.write(`${line}\r\n`);
  });
}

describe('renewed TLS certificates are served without a restart', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /**
   * first.test (60 days) installed where the config points, second.test (`secondDays`) ready to be
   * installed as the renewal.
   */
  function renewalSetup(secondDays: number) {
    const directory = temporaryDirectory();
    cleanups.push(() => directory.remove());
    const first = makeCertificate(directory.path, 'first.test', 60);
    const second = makeCertificate(directory.path, 'second.test', secondDays);
    const live = { cert: join(directory.path, 'live.cert.pem'), key: join(directory.path, 'live.key.pem') };
    install(first, live);
    return { directory, second, live };
  }

  it('mta mode: a renewed pair reaches STARTTLS and implicit TLS within the check interval; a pair that does not load is refused and the old one stays; open sessions keep theirs', async () => {
    const { second, live } = renewalSetup(5);
    const node = await startTestApp(
      {
        mode: 'mta',
        mta: {
          hostname: 'mta.local.test',
          localDomains: ['sender.test'],
          listeners: [
            { role: 'submission', host: '127.0.0.1', port: 0 },
            { role: 'submissions', host: '127.0.0.1', port: 0 },
          ],
          tls: { certFile: live.cert, keyFile: live.key },
          dkim: { enabled: false },
        },
      },
      { certificateCheckMs: 100 },
    );
    cleanups.push(node.stop);
    const portOf = (role: string) =>
      node.app.mtaListeners.find((listener) => listener.role === role)?.address.port ?? 0;
    const expiryOf = async () =>
      Number(
        /^tls_certificate_expiry_timestamp_seconds\{setting="mta\.tls"\} (\S+)$/m.exec(
          await (await fetch(`${node.baseUrl}/metrics`)).text(),
        )?.[1],
      );

    expect(await startTlsSubject(portOf('submission'))).toBe('first.test');
    const open = await implicitTls(portOf('submissions'));
    cleanups.push(() => void open.socket.destroy());
    expect(open.subject).toBe('first.test');
    await command(open.socket, 'EHLO before.test'); // the greeting and the EHLO reply
    const firstExpiry = await expiryOf();
    expect(firstExpiry * 1000 - Date.now()).toBeGreaterThan(59 * 24 * 3600 * 1000);

    // Half a renewal: the new certificate next to the old key. Refused, the old pair served on.
    install(second, live, ['cert']);
    const [refused] = await node.app.certificates.check();
    expect(refused).toMatchObject({ setting: 'mta.tls', kind: 'refused' });
    expect(refused?.kind === 'refused' && refused.reason).toMatch(/key values mismatch|mismatch/i);
    expect((await implicitTls(portOf('submissions'))).subject).toBe('first.test');

    // The key follows: the next look (every 100 ms here) serves the pair, on both kinds of TLS.
    install(second, live, ['key']);
    await waitUntil(
      'the renewed certificate is served',
      async () => {
        const fresh = await implicitTls(portOf('submissions'));
        fresh.socket.destroy();
        return fresh.subject === 'second.test';
      },
      10_000,
    );
    expect(await startTlsSubject(portOf('submission'))).toBe('second.test');
    expect(await expiryOf()).toBeLessThan(firstExpiry);
    // The session opened before the renewal goes on with its own TLS.
    expect(await command(open.socket, 'NOOP')).toMatch(/^250 /m);
  }, 60_000);

  it('capture mode: a forced check hands smtp.tls to STARTTLS, SMTPS and POP3S alike', async () => {
    const { second, live } = renewalSetup(60);
    const node = await startTestApp({
      smtp: { tls: { starttls: true, implicitPort: 0, certFile: live.cert, keyFile: live.key } },
      pop3: { implicitTlsPort: 0, users: [{ username: 'reader', password: 'secret' }] },
    });
    cleanups.push(node.stop);
    const smtpsPort = node.app.smtpsAddress?.port ?? 0;
    const pop3sPort = node.app.pop3sAddress?.port ?? 0;
    const subjects = async () => {
      const [smtps, pop3s] = await Promise.all([implicitTls(smtpsPort), implicitTls(pop3sPort)]);
      smtps.socket.destroy();
      pop3s.socket.destroy();
      return [await startTlsSubject(node.smtpPort), smtps.subject, pop3s.subject];
    };
    expect(await subjects()).toEqual(['first.test', 'first.test', 'first.test']);
    install(second, live);
    expect(await node.app.certificates.check({ force: true })).toMatchObject([
      { setting: 'smtp.tls', kind: 'reloaded', subject: 'CN=second.test' },
    ]);
    expect(await subjects()).toEqual(['second.test', 'second.test', 'second.test']);
  }, 60_000);

  it('the built app on SIGHUP: smtp.tls (STARTTLS) and http.tls (HTTPS) reload at once, and the app keeps running', async () => {
    const { directory, second, live } = renewalSetup(60);
    const child: ChildProcess = spawn(process.execPath, [mainScript], {
      env: {
        ...process.env,
        SMTP_APP_SMTP_PORT: '0',
        SMTP_APP_HTTP_PORT: '0',
        SMTP_APP_STORAGE_DATA_DIR: join(directory.path, 'data'),
        SMTP_APP_INGEST_PARSE_WORKERS: '0',
        SMTP_APP_SMTP_TLS_STARTTLS: 'true',
        SMTP_APP_SMTP_TLS_CERT_FILE: live.cert,
        SMTP_APP_SMTP_TLS_KEY_FILE: live.key,
        SMTP_APP_HTTP_TLS_ENABLED: 'true',
        SMTP_APP_HTTP_TLS_CERT_FILE: live.cert,
        SMTP_APP_HTTP_TLS_KEY_FILE: live.key,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        }),
    );
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    await waitUntil('the app has started', async () => /"http":"https:/.test(output), 20_000);
    const start = JSON.parse(output.split('\n').find((line) => line.includes('"http":"https:')) ?? '{}');
    const smtpPort = start.smtp.port as number;
    const httpPort = Number(new URL(start.http).port);
    expect(await startTlsSubject(smtpPort)).toBe('first.test');
    expect(await httpsSubject(httpPort)).toBe('first.test');

    install(second, live);
    child.kill('SIGHUP');
    await waitUntil(
      'SIGHUP reloaded both',
      async () => /TLS certificate reloaded[\s\S]*TLS certificate reloaded/.test(output),
      10_000,
    );
    expect(await startTlsSubject(smtpPort)).toBe('second.test');
    expect(await httpsSubject(httpPort)).toBe('second.test');
    expect([child.exitCode, child.signalCode]).toEqual([null, null]);
  }, 60_000);
});
