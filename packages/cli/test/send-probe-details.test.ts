import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import type { MailParameters } from '@smtp/protocol';
import { createServer, type SmtpServer, type SmtpServerOptions } from '@smtp/server';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestCertificate } from './helpers/certificates.js';
import { runCli } from './helpers/cli.js';
import { schemaErrors } from './helpers/schemas.js';

// The built binary against an in-process @smtp/server that records what it saw: connections accepted,
// MAIL FROM parameters, the message.

const certificate = createTestCertificate('details.test');
let server: SmtpServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

interface Seen {
  connections: number;
  mail: MailParameters[];
  messages: string[];
}

async function start(
  options: {
    tls?: 'starttls' | 'implicit' | 'off';
    reply?: string;
    extensions?: SmtpServerOptions['extensions'];
  } = {},
): Promise<{ port: number; seen: Seen }> {
  const seen: Seen = { connections: 0, mail: [], messages: [] };
  server = createServer({
    hostname: 'mx.test',
    ...(options.extensions !== undefined ? { extensions: options.extensions } : {}),
    tls: { key: readFileSync(certificate.keyPath, 'utf8'), cert: readFileSync(certificate.certPath, 'utf8') },
    onConnect() {
      seen.connections++;
    },
    onMailFrom(_from, parameters) {
      seen.mail.push(parameters);
    },
    async onData(stream) {
      seen.messages.push(await text(stream));
      return options.reply;
    },
  });
  const address = await server.listen({ port: 0, host: '127.0.0.1', tls: options.tls ?? 'starttls' });
  return { port: address.port, seen };
}

/** `smtp send` from a@example.com to b@example.com through the test server, with `more` options. */
function sendArgs(port: number, ...more: string[]): string[] {
  return ['send', '-s', `127.0.0.1:${port}`, '--from', 'a@example.com', '--to', 'b@example.com', ...more];
}

describe('smtp probe: one connection', () => {
  it('reads the STARTTLS details from its own connection, without opening a second one', async () => {
    const { port, seen } = await start();
    const result = await runCli(['probe', `127.0.0.1:${port}`, '--insecure', '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(schemaErrors('probe', report)).toBe('');
    expect(report.tls).toMatchObject({ mode: 'starttls', offered: true, verified: false, error: null });
    expect(report.tls.protocol).toMatch(/^TLSv1\.[23]$/);
    expect(report.tls.cipher).toMatch(/^[A-Z0-9_-]+$/);
    expect(report.tls.verificationError).toMatch(/SELF_SIGNED/);
    expect(report.tls.certificate.subject).toBe('CN=details.test, O=smtp cli tests');
    expect(report.tls.certificate.selfSigned).toBe(true);
    expect(report.timings.tlsHandshakeMs).toBeGreaterThan(0);
    expect(seen.connections).toBe(1);
  });

  it('with implicit TLS too', async () => {
    const { port, seen } = await start({ tls: 'implicit' });
    const result = await runCli(['probe', `127.0.0.1:${port}`, '--tls', '--insecure', '--json']);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(schemaErrors('probe', report)).toBe('');
    expect(report.tls.mode).toBe('implicit');
    expect(report.tls.certificate.subjectAltNames).toEqual(['DNS:localhost', 'IP Address:127.0.0.1']);
    expect(seen.connections).toBe(1);
  });
});

describe('boolean environment variables', () => {
  it.each(['maybe', '2', 'on'])(
    'SMTP_TLS=%s is a one-line usage error naming the variable',
    async (value) => {
      const result = await runCli(['probe', '127.0.0.1:1'], { env: { SMTP_TLS: value } });
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toContain(`SMTP_TLS='${value}'`);
      expect(result.stderr).toMatch(/1\/0, true\/false or yes\/no/);
    },
  );

  it('SMTP_INSECURE=bogus is refused the same way', async () => {
    const result = await runCli(['send', '--to', 'b@example.com'], { env: { SMTP_INSECURE: 'bogus' } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("SMTP_INSECURE='bogus'");
  });

  it.each(['0', 'false', 'NO', 'False'])('SMTP_TLS=%s leaves implicit TLS off', async (value) => {
    const { port } = await start({ tls: 'off' });
    const result = await runCli(['probe', `127.0.0.1:${port}`, '--json'], { env: { SMTP_TLS: value } });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).tls.mode).toBe('none');
  });

  it.each(['1', 'TRUE', 'yes'])('SMTP_TLS=%s turns implicit TLS on', async (value) => {
    const { port } = await start({ tls: 'implicit' });
    const result = await runCli(['probe', `127.0.0.1:${port}`, '--json'], {
      env: { SMTP_TLS: value, SMTP_INSECURE: 'Yes' },
    });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).tls.mode).toBe('implicit');
  });

  it('SMTP_INSECURE=no keeps certificate checks on', async () => {
    const { port } = await start();
    const result = await runCli(['probe', `127.0.0.1:${port}`, '--json'], { env: { SMTP_INSECURE: 'no' } });
    expect(result.code).toBe(4);
    expect(JSON.parse(result.stdout).tls.verified).toBe(false);
  });
});

describe('smtp send: queue id and transaction parameters', () => {
  it('shows the queue id from the final reply, in --json and as text', async () => {
    const { port } = await start({ tls: 'off', reply: 'Ok: queued as 4XyZ1k2Abc' });
    const base = sendArgs(port);
    const json = await runCli([...base, '--json']);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(schemaErrors('send', report)).toBe('');
    expect(report.messages[0].queueId).toBe('4XyZ1k2Abc');
    const human = await runCli(base);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^queue id: 4XyZ1k2Abc$/m);
  });

  it('reports a null queue id when the reply names none', async () => {
    const { port } = await start({ tls: 'off' });
    const result = await runCli(sendArgs(port, '--json'));
    const report = JSON.parse(result.stdout);
    expect(schemaErrors('send', report)).toBe('');
    expect(report.messages[0].queueId).toBeNull();
  });

  it('passes --dsn-ret, --dsn-envid and --requiretls to MAIL FROM', async () => {
    const { port, seen } = await start();
    const result = await runCli(
      sendArgs(
        port,
        '--starttls',
        '--insecure',
        '--dsn-ret',
        'hdrs',
        '--dsn-envid',
        'order+1234 x',
        '--requiretls',
      ),
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(seen.mail).toHaveLength(1);
    expect(seen.mail[0]).toMatchObject({ ret: 'HDRS', envid: 'order+1234 x', requireTls: true });
    // RFC 3461 §4: the value travels as xtext ("+" and " " encoded).
    expect(result.stdout).toContain('ENVID=order+2B1234+20x');
  });

  it('refuses an --dsn-envid that RFC 3461 does not allow', async () => {
    const result = await runCli(['send', '--to', 'b@example.com', '--dsn-envid', 'x'.repeat(101)]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('--dsn-envid');
  });

  it('passes --mt-priority to a server offering MT-PRIORITY, which keeps what it grants (RFC 6710)', async () => {
    const { port, seen } = await start({ tls: 'off', extensions: { mtPriority: { maxPriority: 5 } } });
    const result = await runCli(sendArgs(port, '--mt-priority', '7'));
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^C: MAIL FROM:<a@example\.com> .*MT-PRIORITY=7$/m);
    expect(seen.mail[0]).toMatchObject({ mtPriority: 5 });
  });

  it('leaves --mt-priority out when the server does not offer MT-PRIORITY', async () => {
    const { port, seen } = await start({ tls: 'off' });
    const result = await runCli(sendArgs(port, '--mt-priority', '-3'));
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^C: MAIL FROM:<a@example\.com>/m);
    expect(result.stdout).not.toContain('MT-PRIORITY=');
    expect(seen.mail[0]?.mtPriority).toBeUndefined();
  });

  it('reads --dsn-notify and --dsn-ret by the core grammar: any case, spaces after commas', async () => {
    const { port } = await start({ tls: 'off' });
    const result = await runCli(sendArgs(port, '--dsn-notify', 'success, delay', '--dsn-ret', 'full'));
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^C: MAIL FROM:<a@example\.com> .*RET=FULL/m);
    expect(result.stdout).toMatch(/^C: RCPT TO:<b@example\.com> NOTIFY=SUCCESS,DELAY$/m);
    const refused = await runCli(['send', '-s', '127.0.0.1:1', '--to', 'b@example.com', '--dsn-ret', 'all']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("--dsn-ret 'all': give FULL or HDRS");
  });

  it('refuses an --mt-priority outside -9..9 before connecting', async () => {
    for (const value of ['10', '1.5', 'high']) {
      const result = await runCli([
        'send',
        '-s',
        '127.0.0.1:1',
        '--to',
        'b@example.com',
        '--mt-priority',
        value,
      ]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`--mt-priority '${value}': give an integer from -9 (lowest) to 9`);
    }
  });

  it('declares 8BITMIME and SMTPUTF8 on its own when the message and addresses need them', async (context) => {
    const { port, seen } = await start({ tls: 'off' });
    const directory = certificate.directory;
    const path = join(directory, `utf8-${context.task.id}.eml`);
    writeFileSync(path, 'From: andré@example.com\r\nSubject: café\r\n\r\nnaïve body\r\n');
    const result = await runCli([
      'send',
      '-s',
      `127.0.0.1:${port}`,
      '--from',
      'andré@example.com',
      '--to',
      'b@example.com',
      '--data',
      path,
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(seen.mail[0]).toMatchObject({ body: '8BITMIME', smtpUtf8: true });
    expect(seen.messages[0]).toContain('naïve body');
  });

  it('sends a 7-bit message with ASCII addresses without SMTPUTF8', async () => {
    const { port, seen } = await start({ tls: 'off' });
    const result = await runCli(sendArgs(port));
    expect(result.code).toBe(0);
    expect(seen.mail[0]?.smtpUtf8).toBeUndefined();
    expect(seen.mail[0]?.body).not.toBe('8BITMIME');
  });
});
