import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  type AiosmtpdPeer,
  createTestCertificates,
  startAiosmtpd,
  type TestCertificates,
} from '@smtp/test-support';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createClient, SmtpConnectionError, SmtpReplyError, SmtpTlsError, sendMail } from '../src/index.js';
import { freePort } from './helpers.js';

// The defaults a nodemailer user expects (issue 13), against aiosmtpd: a local catcher without STARTTLS
// works with just host and port, STARTTLS is used (and verified) when offered, nodemailer's
// auth: { user, pass } works, verify() and sendMail() exist, and a forgotten close() does not keep the
// process alive.

let certificates: TestCertificates;
let server: AiosmtpdPeer | null = null;
beforeAll(() => {
  certificates = createTestCertificates({ ca: true });
});
afterEach(async () => {
  await server?.stop();
  server = null;
});

const message = 'From: a@example.com\r\nTo: b@example.com\r\nSubject: defaults\r\n\r\nHello\r\n';

describe('createClient defaults', () => {
  it('sends to a catcher that offers no STARTTLS with only host and port', async () => {
    server = await startAiosmtpd();
    const client = createClient({ host: '127.0.0.1', port: server.port });
    const result = await client.send({ from: 'a@example.com', to: 'b@example.com', message });
    await client.close();
    expect(result.reply.code).toBe(250);
    const [received] = await server.waitForMessages(1);
    expect(received?.tls).toBe(false);
  });

  it('upgrades with STARTTLS when offered, by default', async () => {
    server = await startAiosmtpd({ certificates });
    const client = createClient({ host: 'localhost', port: server.port, tls: { ca: certificates.caPem } });
    await client.send({ from: 'a@example.com', to: 'b@example.com', message });
    await client.close();
    const [received] = await server.waitForMessages(1);
    expect(received?.tls).toBe(true);
  });

  it('verifies the certificate of an offered STARTTLS by default, and the error names the options', async () => {
    server = await startAiosmtpd({ certificates });
    const client = createClient({ host: 'localhost', port: server.port, pool: false });
    const error = await client
      .send({ from: 'a@example.com', to: 'b@example.com', message })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SmtpTlsError);
    expect((error as Error).message).toMatch(/tls\.ca.*tls\.rejectUnauthorized: false/);
    expect(server.messages).toEqual([]);
  });

  it("says which option to set when starttls: 'required' meets a server without STARTTLS", async () => {
    server = await startAiosmtpd();
    const client = createClient({ host: '127.0.0.1', port: server.port, starttls: 'required', pool: false });
    await expect(client.send({ from: 'a@example.com', to: 'b@example.com', message })).rejects.toThrow(
      /does not offer STARTTLS.*secure: true.*starttls: 'opportunistic'/,
    );
  });

  it('refuses an unknown starttls policy and a nameless auth object, naming what to set', () => {
    expect(() => createClient({ starttls: true as never })).toThrow(/'opportunistic'.*'required'.*'never'/);
    expect(() => createClient({ auth: { login: 'alice' } as never })).toThrow(/username.*password/);
  });

  it("authenticates with nodemailer's auth: { user, pass } to a loopback catcher without TLS", async () => {
    server = await startAiosmtpd({ auth: true, authWithoutTls: true });
    const client = createClient({
      host: '127.0.0.1',
      port: server.port,
      auth: { user: 'alice', pass: 's3cret' },
    });
    await client.send({ from: 'a@example.com', to: 'b@example.com', message });
    await client.close();
    const [received] = await server.waitForMessages(1);
    expect(received?.auth).toBe(true);
    expect(received?.tls).toBe(false);
  });
});

describe('client.verify()', () => {
  it('connects, upgrades, authenticates and QUITs, reporting what the server offers', async () => {
    server = await startAiosmtpd({ certificates, auth: true });
    const client = createClient({
      host: 'localhost',
      port: server.port,
      tls: { ca: certificates.caPem },
      auth: { username: 'alice', password: 's3cret' },
    });
    const result = await client.verify();
    expect(result.greeting.code).toBe(220);
    expect(result.tls?.authorized).toBe(true);
    expect(result.capabilities.auth).toContain('PLAIN');
    expect(result.isAuthenticated).toBe(true);
    expect(client.stats.connections).toBe(0);
    expect(server.messages).toEqual([]);
  });

  it('throws the 535 for a wrong password', async () => {
    server = await startAiosmtpd({ auth: true, authWithoutTls: true });
    const client = createClient({
      host: '127.0.0.1',
      port: server.port,
      auth: { user: 'alice', pass: 'wrong' },
    });
    const error = await client.verify().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SmtpReplyError);
    expect((error as SmtpReplyError).code).toBe(535);
  });

  it('throws a connection error when nothing listens', async () => {
    const client = createClient({ host: '127.0.0.1', port: await freePort() });
    await expect(client.verify()).rejects.toBeInstanceOf(SmtpConnectionError);
  });
});

describe('sendMail()', () => {
  it('composes and sends one message in one call', async () => {
    server = await startAiosmtpd();
    const result = await sendMail({
      host: '127.0.0.1',
      port: server.port,
      from: 'Ann <ann@example.com>',
      to: 'bob@example.org',
      subject: 'One call',
      text: 'Hello Bob',
      attachments: [{ filename: 'note.txt', content: 'attached' }],
    });
    expect(result.accepted.map((item) => item.to)).toEqual(['bob@example.org']);
    expect(result.messageId).toMatch(/^<.+@.+>$/);
    const [received] = await server.waitForMessages(1);
    expect(received?.from).toBe('ann@example.com');
    expect(received?.data).toMatch(/^Subject: One call\r?$/m);
    expect(received?.data).toMatch(/^From: Ann <ann@example\.com>\r?$/m);
    expect(received?.data).toContain('filename=note.txt');
  });
});

describe('a script that forgets close()', () => {
  const distEntry = fileURLToPath(new URL('../dist/index.js', import.meta.url));

  /** Runs `script` in a child Node process and resolves with its exit code and how long it ran. */
  function runScript(
    script: string,
    timeoutMs: number,
  ): Promise<{ code: number | null; ms: number; stderr: string }> {
    return new Promise((resolve) => {
      const started = performance.now();
      const child = spawn(process.execPath, ['--input-type=module', '--eval', script], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (text: string) => {
        stderr += text;
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, ms: performance.now() - started, stderr });
      });
    });
  }

  it('exits promptly after its last send, the pooled connection left idle', async () => {
    server = await startAiosmtpd();
    // The pool keeps idle connections for 10 s by default: without unref the script would live that long.
    const script = `
      import { createClient } from ${JSON.stringify(distEntry)};
      const client = createClient({ host: '127.0.0.1', port: ${server.port}, pool: { idleTimeoutMs: 60000 } });
      await client.send({ from: 'a@example.com', to: 'b@example.com', message: 'Subject: x\\r\\n\\r\\nx\\r\\n' });
      await client.send({ from: 'a@example.com', to: 'c@example.com', message: 'Subject: y\\r\\n\\r\\ny\\r\\n' });
    `;
    const run = await runScript(script, 30_000);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    // A generous bound for a loaded machine; the idle timeout above is 60 s.
    expect(run.ms).toBeLessThan(5_000);
    expect(await server.waitForMessages(2)).toHaveLength(2);
  });

  it('exits promptly after a send over STARTTLS too (the TLS socket and the TCP one under it are released)', async () => {
    server = await startAiosmtpd({ certificates });
    const script = `
      import { createClient } from ${JSON.stringify(distEntry)};
      const client = createClient({
        host: 'localhost', port: ${server.port}, tls: { ca: ${JSON.stringify(certificates.caPem)} },
        pool: { idleTimeoutMs: 60000 },
      });
      await client.send({ from: 'a@example.com', to: 'b@example.com', message: 'Subject: x\\r\\n\\r\\nx\\r\\n' });
    `;
    const run = await runScript(script, 30_000);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.ms).toBeLessThan(5_000);
    const [received] = await server.waitForMessages(1);
    expect(received?.tls).toBe(true);
  });
});
