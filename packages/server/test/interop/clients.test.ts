import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { requireTool } from '@smtp/test-support';
import { createTransport } from 'nodemailer';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SmtpReplyError, type SmtpServerOptions } from '../../src/index.js';
import { createCertificate, type TestCertificate } from '../helpers/certificates.js';
import { startServer, streamToBuffer } from '../helpers/server.js';

const run = promisify(execFile);

let certificate: TestCertificate;
beforeAll(() => {
  certificate = createCertificate('mx.test');
});
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

interface Delivery {
  from: string;
  to: string[];
  body: string;
  user: string | null;
  mechanism: string | null;
  tls: boolean;
}

/** A server that records every delivery and accepts alice/secret. */
async function recordingServer(
  options: SmtpServerOptions = {},
  listen: { tls?: 'implicit' | 'starttls' } = {},
) {
  const deliveries: Delivery[] = [];
  const address = (path: unknown): string =>
    path === null
      ? ''
      : path === 'Postmaster'
        ? 'Postmaster'
        : `${(path as { localPart: string }).localPart}@${(path as { domain: { name: string } }).domain.name}`;
  const started = await startServer(
    {
      tls: certificate,
      onAuth(credentials) {
        return (
          credentials.username === 'alice' && 'password' in credentials && credentials.password === 'secret'
        );
      },
      onAuthSecret: ({ username }) => (username === 'alice' ? { password: 'secret' } : null),
      async onData(stream, session) {
        const body = await streamToBuffer(stream);
        deliveries.push({
          from: address(session.envelope?.from ?? null),
          to: session.envelope?.recipients.map((recipient) => address(recipient.to)) ?? [],
          body: body.toString('utf8'),
          user: session.user?.username ?? null,
          mechanism: session.user?.mechanism ?? null,
          tls: session.tls !== null,
        });
        return `Queued as ${deliveries.length}`;
      },
      ...options,
    },
    listen,
  );
  stops.push(started.stop);
  return { ...started, deliveries };
}

const python = () => requireTool('/usr/bin/python3', 'apt-get install python3');

describe('Python smtplib', () => {
  it('sends over STARTTLS with AUTH PLAIN/LOGIN and gets the queue id back', async () => {
    const { port, deliveries } = await recordingServer();
    const script = `
import smtplib, ssl, sys
port = int(sys.argv[1])
context = ssl.create_default_context(); context.check_hostname = False; context.verify_mode = ssl.CERT_NONE
with smtplib.SMTP('127.0.0.1', port, local_hostname='py.test') as smtp:
    smtp.starttls(context=context)
    smtp.login('alice', 'secret')
    refused = smtp.sendmail('alice@py.test', ['bob@mx.test', 'carol@mx.test'], 'Subject: py\\r\\n\\r\\n.dot line\\r\\nend\\r\\n')
    code, text = smtp.noop()
    print(refused, code)
`;
    const { stdout } = await run(python(), ['-c', script, String(port)]);
    expect(stdout.trim()).toBe('{} 250');
    expect(deliveries).toEqual([
      {
        from: 'alice@py.test',
        to: ['bob@mx.test', 'carol@mx.test'],
        body: 'Subject: py\r\n\r\n.dot line\r\nend\r\n',
        user: 'alice',
        mechanism: 'CRAM-MD5', // smtplib prefers it when offered
        tls: true,
      },
    ]);
  });

  it('CRAM-MD5 through smtplib (secret from onAuthSecret, verified by the core)', async () => {
    const { port, deliveries } = await recordingServer({
      authMechanisms: ['CRAM-MD5'],
      auth: { allowPlaintext: true },
    });
    const script = `
import smtplib, sys
with smtplib.SMTP('127.0.0.1', int(sys.argv[1])) as smtp:
    smtp.ehlo('py.test')
    smtp.login('alice', 'secret')
    smtp.sendmail('alice@py.test', ['bob@mx.test'], 'hi\\r\\n')
try:
    with smtplib.SMTP('127.0.0.1', int(sys.argv[1])) as smtp:
        smtp.login('alice', 'wrong')
except smtplib.SMTPAuthenticationError as error:
    print(error.smtp_code)
`;
    const { stdout } = await run(python(), ['-c', script, String(port)]);
    expect(stdout.trim()).toBe('535');
    expect(deliveries.map((delivery) => `${delivery.user}/${delivery.mechanism}`)).toEqual([
      'alice/CRAM-MD5',
    ]);
  });

  it('sees a handler rejection as SMTPRecipientsRefused with our code', async () => {
    const { port } = await recordingServer({
      onRcptTo() {
        throw new SmtpReplyError({ code: 550, enhanced: '5.1.1', text: 'No such user' });
      },
    });
    const script = `
import smtplib, sys
try:
    with smtplib.SMTP('127.0.0.1', int(sys.argv[1])) as smtp:
        smtp.sendmail('a@py.test', ['nobody@mx.test'], 'x\\r\\n')
except smtplib.SMTPRecipientsRefused as error:
    for address, (code, text) in error.recipients.items():
        print(address, code, text.decode())
`;
    const { stdout } = await run(python(), ['-c', script, String(port)]);
    expect(stdout.trim()).toBe('nobody@mx.test 550 5.1.1 No such user');
  });

  it('LMTP via smtplib.LMTP over a Unix socket', async () => {
    const { server, deliveries } = await recordingServer({ mode: 'lmtp' });
    const path = join(mkdtempSync(join(tmpdir(), 'lmtp-')), 'lmtp.sock');
    await server.listen({ path, tls: 'off' });
    const script = `
import smtplib, sys
# smtplib reads a single reply after DATA, so one recipient (per-recipient replies: lmtp-proxy.test.ts).
with smtplib.LMTP(sys.argv[1]) as lmtp:
    print(lmtp.sendmail('a@py.test', ['x@mx.test'], 'lmtp body\\r\\n'))
`;
    const { stdout } = await run(python(), ['-c', script, path]);
    expect(stdout.trim()).toBe('{}');
    expect(deliveries[0]).toMatchObject({ to: ['x@mx.test'], body: 'lmtp body\r\n' });
  });
});

describe('swaks', () => {
  it('STARTTLS + AUTH LOGIN + pipelining', async () => {
    const swaks = requireTool('swaks', 'apt-get install swaks');
    const { port, deliveries } = await recordingServer();
    const { stdout } = await run(swaks, [
      '--server',
      '127.0.0.1',
      '--port',
      String(port),
      '--tls',
      '--pipeline',
      '--auth',
      'LOGIN',
      '--auth-user',
      'alice',
      '--auth-password',
      'secret',
      '--from',
      'alice@swaks.test',
      '--to',
      'bob@mx.test',
      '--helo',
      'swaks.test',
      '--header',
      'Subject: swaks',
      '--body',
      'hello from swaks',
    ]);
    expect(stdout).toMatch(/250 2\.0\.0 Queued as 1/);
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]).toMatchObject({
      from: 'alice@swaks.test',
      to: ['bob@mx.test'],
      user: 'alice',
      tls: true,
    });
    expect(deliveries[0]!.body).toMatch(/Subject: swaks\r\n/);
    expect(deliveries[0]!.body).toMatch(/\r\n\r\nhello from swaks\r\n/);
    expect(deliveries[0]!.body).not.toMatch(/[^\r]\n/);
  });

  it('implicit TLS (--tlsc) and CHUNKING-free DATA with a dot-stuffed line', async () => {
    const swaks = requireTool('swaks', 'apt-get install swaks');
    const { port, deliveries } = await recordingServer({}, { tls: 'implicit' });
    await run(swaks, [
      '--server',
      '127.0.0.1',
      '--port',
      String(port),
      '--tlsc',
      '--from',
      'a@swaks.test',
      '--to',
      'b@mx.test',
      '--body',
      '.starts with a dot',
    ]);
    expect(deliveries[0]!.body).toMatch(/\r\n\r\n\.starts with a dot\r\n/);
    expect(deliveries[0]!.tls).toBe(true);
  });
});

describe('msmtp', () => {
  it('STARTTLS + AUTH PLAIN, message from stdin', async () => {
    const msmtp = requireTool('msmtp', 'apt-get install msmtp');
    const { port, deliveries } = await recordingServer();
    const directory = mkdtempSync(join(tmpdir(), 'msmtp-'));
    const config = join(directory, 'msmtprc');
    writeFileSync(
      config,
      [
        'account test',
        'host 127.0.0.1',
        `port ${port}`,
        'tls on',
        'tls_starttls on',
        'tls_certcheck off',
        'auth plain',
        'user alice',
        'password secret',
        'from alice@msmtp.test',
        'domain msmtp.test',
        'account default : test',
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    await new Promise<void>((resolve, reject) => {
      const child = execFile(msmtp, ['-C', config, 'bob@mx.test'], (error) =>
        error ? reject(error) : resolve(),
      );
      child.stdin?.end('Subject: msmtp\n\nline one\n.line two\n');
    });
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]).toMatchObject({
      from: 'alice@msmtp.test',
      to: ['bob@mx.test'],
      user: 'alice',
      tls: true,
    });
    // msmtp converts LF to CRLF, adds Date/From headers and dot-stuffs; we must see the original text back.
    expect(deliveries[0]!.body).toMatch(/\r\nSubject: msmtp\r\n\r\nline one\r\n\.line two\r\n$/);
  });
});

describe('nodemailer', () => {
  it('delivers 8-bit UTF-8 with SMTPUTF8 addresses, over implicit TLS', async () => {
    const { port, deliveries } = await recordingServer({}, { tls: 'implicit' });
    const transport = createTransport({
      host: '127.0.0.1',
      port,
      secure: true,
      tls: { rejectUnauthorized: false },
      auth: { user: 'alice', pass: 'secret' },
    });
    const info = await transport.sendMail({
      from: 'alice@example.test',
      to: 'bøb@exämple.test',
      subject: 'Grüße',
      text: 'Größe: 10 €',
      textEncoding: 'quoted-printable',
    });
    expect(info.response).toMatch(/^250 2\.0\.0 Queued as 1/);
    // nodemailer sends the domain as an A-label and the UTF-8 local part under SMTPUTF8 (RFC 6531).
    expect(deliveries[0]?.to).toEqual(['bøb@xn--exmple-cua.test']);
    expect(deliveries[0]?.body).toMatch(/Gr=C3=B6=C3=9Fe: 10 =E2=82=AC/);
  });

  it('many messages over one pooled connection', async () => {
    const { port, deliveries } = await recordingServer({ extensions: { startTls: false } });
    const transport = createTransport({
      host: '127.0.0.1',
      port,
      pool: true,
      maxConnections: 1,
      ignoreTLS: true,
    });
    await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        transport.sendMail({
          from: 'a@n.test',
          to: 'b@mx.test',
          subject: `m${index}`,
          text: `body ${index}`,
        }),
      ),
    );
    transport.close();
    expect(deliveries).toHaveLength(20);
  });
});
