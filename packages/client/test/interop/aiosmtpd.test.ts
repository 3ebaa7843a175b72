import { createHash } from 'node:crypto';
import {
  type AiosmtpdPeer,
  createTestCertificates,
  startAiosmtpd,
  type TestCertificates,
} from '@smtp/test-support';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connect, createClient, SmtpReplyError, SmtpTlsError } from '../../src/index.js';

// aiosmtpd (Debian python3-aiosmtpd), scripted by fixtures/aiosmtpd-server.py: STARTTLS, implicit TLS,
// AUTH PLAIN/LOGIN, per-recipient refusals ("temp…" → 450, "perm…" → 550).

let certificates: TestCertificates;
let server: AiosmtpdPeer | null = null;
beforeAll(() => {
  certificates = createTestCertificates({ ca: true });
});
afterEach(async () => {
  await server?.stop();
  server = null;
});
afterAll(() => {});

const message =
  'From: a@example.com\r\nTo: b@example.com\r\nSubject: interop\r\n\r\nHello from @smtp/client\r\n';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('against aiosmtpd', () => {
  it('upgrades with STARTTLS (required) and verifies the certificate against the given CA', async () => {
    server = await startAiosmtpd({ certificates });
    const client = createClient({
      host: 'localhost',
      port: server.port,
      starttls: 'required',
      tls: { ca: certificates.caPem },
    });
    const result = await client.send({ from: 'a@example.com', to: 'b@example.com', message });
    await client.close();
    expect(result.reply.code).toBe(250);
    expect(result.reply.lines.join(' ')).toContain('queued as AIO1');
    const [received] = await server.waitForMessages(1);
    expect(received?.tls).toBe(true);
    expect(received?.sha256).toBe(sha256(message));
  });

  it('speaks implicit TLS (secure: true)', async () => {
    server = await startAiosmtpd({ certificates, implicitTls: true });
    const client = createClient({
      host: 'localhost',
      port: server.port,
      secure: true,
      tls: { ca: certificates.caPem },
    });
    const result = await client.send({ from: 'a@example.com', to: 'b@example.com', message });
    await client.close();
    expect(result.reply.code).toBe(250);
    const [received] = await server.waitForMessages(1);
    expect(received?.tls).toBe(true);
  });

  it('fails with SmtpTlsError on an untrusted certificate', async () => {
    server = await startAiosmtpd({ certificates });
    const client = createClient({ host: 'localhost', port: server.port, pool: false });
    const error = await client
      .send({ from: 'a@example.com', to: 'b@example.com', message })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SmtpTlsError);
    expect((error as SmtpTlsError).errorCode).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY/);
    expect(server.messages).toEqual([]);
  });

  it('fails with SmtpTlsError when the certificate does not match the host name', async () => {
    server = await startAiosmtpd({ certificates });
    const client = createClient({
      host: '127.0.0.1',
      port: server.port,
      pool: false,
      tls: { ca: certificates.caPem, servername: 'mail.wrong.example' },
    });
    const error = await client
      .send({ from: 'a@example.com', to: 'b@example.com', message })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SmtpTlsError);
    expect((error as SmtpTlsError).errorCode).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('fails with SmtpTlsError when STARTTLS is required but not offered', async () => {
    server = await startAiosmtpd();
    const client = createClient({ host: '127.0.0.1', port: server.port, starttls: 'required', pool: false });
    await expect(client.send({ from: 'a@example.com', to: 'b@example.com', message })).rejects.toBeInstanceOf(
      SmtpTlsError,
    );
    expect(server.messages).toEqual([]);
  });

  it('authenticates over STARTTLS and rejects a wrong password with 535', async () => {
    server = await startAiosmtpd({ certificates, auth: true });
    const client = createClient({
      host: 'localhost',
      port: server.port,
      tls: { ca: certificates.caPem },
      auth: { username: 'alice', password: 's3cret' },
    });
    await client.send({ from: 'a@example.com', to: 'b@example.com', message });
    await client.close();
    const [received] = await server.waitForMessages(1);
    expect(received?.auth).toBe(true);

    const wrong = createClient({
      host: 'localhost',
      port: server.port,
      pool: false,
      tls: { ca: certificates.caPem },
      auth: { username: 'alice', password: 'wrong', mechanism: 'LOGIN' },
    });
    const error = await wrong
      .send({ from: 'a@example.com', to: 'b@example.com', message })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SmtpReplyError);
    expect((error as SmtpReplyError).code).toBe(535);
    expect((error as SmtpReplyError).command).toBe('AUTH LOGIN');
  });

  it('reports 4xx and 5xx per recipient and delivers to the rest', async () => {
    server = await startAiosmtpd();
    const client = createClient({ host: '127.0.0.1', port: server.port, starttls: 'never' });
    const result = await client.send({
      from: 'a@example.com',
      to: ['ok@example.com', 'temp@example.com', 'perm@example.com'],
      message,
    });
    await client.close();
    expect(result.accepted.map((entry) => entry.to)).toEqual(['ok@example.com']);
    expect(result.rejected.map((entry) => [entry.to, entry.reply.code, entry.reply.enhanced])).toEqual([
      ['temp@example.com', 450, '4.2.0'],
      ['perm@example.com', 550, '5.1.1'],
    ]);
    const [received] = await server.waitForMessages(1);
    expect(received?.to).toEqual(['ok@example.com']);
  });

  it('throws when every recipient is refused, naming the RCPT', async () => {
    server = await startAiosmtpd();
    const client = createClient({ host: '127.0.0.1', port: server.port, starttls: 'never', pool: false });
    const error = await client
      .send({ from: 'a@example.com', to: ['perm@example.com'], message })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SmtpReplyError);
    expect((error as SmtpReplyError).code).toBe(550);
    expect((error as SmtpReplyError).command).toBe('RCPT TO:<perm@example.com>');
  });

  it('declares BODY=8BITMIME and SMTPUTF8 when the message and addresses need them', async () => {
    server = await startAiosmtpd();
    const client = createClient({ host: '127.0.0.1', port: server.port, starttls: 'never', pool: false });
    const utf8Message = 'Subject: =?utf-8?q?caf=C3=A9?=\r\n\r\nd\u00e9j\u00e0 vu\r\n';
    await client.send({ from: 'andr\u00e9@example.com', to: 'b@example.com', message: utf8Message });
    const [received] = await server.waitForMessages(1);
    expect(received?.mail_options).toContain('BODY=8BITMIME');
    expect(received?.mail_options).toContain('SMTPUTF8');
    expect(received?.from).toBe('andr\u00e9@example.com');
    expect(received?.size).toBe(Buffer.byteLength(utf8Message));
  });

  it('records a probe transcript with connect()', async () => {
    server = await startAiosmtpd({ certificates, auth: true });
    const lines: string[] = [];
    const session = await connect({
      host: 'localhost',
      port: server.port,
      tls: { ca: certificates.caPem },
      onTranscriptLine: (line) => lines.push(line),
    });
    expect(session.greeting.code).toBe(220);
    await session.ehlo();
    await session.starttls();
    expect(session.isTlsActive).toBe(true);
    await session.auth({ username: 'alice', password: 's3cret', mechanism: 'PLAIN' });
    expect((await session.mail('a@example.com')).code).toBe(250);
    expect((await session.rcpt('perm@example.com')).code).toBe(550);
    expect((await session.rset()).code).toBe(250);
    await session.quit();
    expect(lines[0]).toMatch(/^S: 220 /);
    expect(lines).toContain('C: STARTTLS');
    expect(lines).toContain('== tls ==');
    expect(lines).toContain('C: AUTH PLAIN ***');
    expect(lines).toContain('C: MAIL FROM:<a@example.com>');
    expect(lines).toContain('C: QUIT');
    expect(session.transcript).not.toContain('s3cret');
  });
});
