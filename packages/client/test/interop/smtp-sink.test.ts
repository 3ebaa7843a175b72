import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import {
  connect,
  createClient,
  SmtpCapabilityError,
  SmtpConnectionError,
  SmtpReplyError,
} from '../../src/index.js';
import { type SmtpSink, startSmtpSink } from '../helpers.js';

// Postfix's smtp-sink (Debian package postfix): a peer nobody here wrote. No TLS support, so STARTTLS and
// implicit TLS are covered against aiosmtpd (aiosmtpd.test.ts).

let sink: SmtpSink | null = null;
afterEach(async () => {
  await sink?.stop();
  sink = null;
});

const message = (id: string) =>
  `From: a@example.com\r\nTo: b@example.com\r\nSubject: ${id}\r\nX-Test-Id: ${id}\r\n\r\n.leading dot\r\nbody ${id}\r\n`;

function dumpedMessages(directory: string): string[] {
  return readdirSync(directory).map((name) => readFileSync(join(directory, name), 'latin1'));
}

describe('against smtp-sink', () => {
  it('sends a message that arrives intact (dot-stuffing undone by the peer)', async () => {
    sink = await startSmtpSink([], { dump: true });
    const client = createClient({ host: '127.0.0.1', port: sink.port, starttls: 'never' });
    const result = await client.send({
      from: 'a@example.com',
      to: ['b@example.com', 'c@example.com'],
      message: message('one'),
    });
    await client.close();
    expect(result.reply.code).toBe(250);
    expect(result.reply.enhanced).toBe('2.0.0');
    expect(result.accepted.map((entry) => entry.to)).toEqual(['b@example.com', 'c@example.com']);
    expect(result.rejected).toEqual([]);
    const dumps = dumpedMessages(sink.dumpDirectory);
    expect(dumps).toHaveLength(1);
    expect(dumps[0]).toContain('\n.leading dot\n');
    expect(dumps[0]).toContain('X-Test-Id: one');
  });

  it('streams a 1 MB Node Readable', async () => {
    sink = await startSmtpSink([], { dump: true });
    const client = createClient({ host: '127.0.0.1', port: sink.port, starttls: 'never' });
    const line = `${'x'.repeat(76)}\r\n`;
    const lines = Math.ceil((1024 * 1024) / line.length);
    const stream = Readable.from(
      (function* () {
        yield 'Subject: big\r\nX-Test-Id: big\r\n\r\n';
        for (let index = 0; index < lines; index++) yield line;
      })(),
    );
    const result = await client.send({ from: 'a@example.com', to: 'b@example.com', message: stream });
    await client.close();
    expect(result.reply.code).toBe(250);
    expect(result.messageBytes).toBe(32 + lines * line.length);
    const dumps = dumpedMessages(sink.dumpDirectory);
    expect(dumps[0]?.split('x'.repeat(76)).length).toBe(lines + 1);
  });

  it('falls back to HELO against a server without ESMTP (-e)', async () => {
    sink = await startSmtpSink(['-e']);
    const session = await connect({
      host: '127.0.0.1',
      port: sink.port,
      starttls: 'never',
      name: 'client.test',
    });
    const capabilities = await session.ehlo();
    expect(capabilities.pipelining).toBe(false);
    expect(session.transcript).toContain('C: HELO client.test');
    const result = await session.data({
      from: 'a@example.com',
      to: 'b@example.com',
      message: message('helo'),
    });
    expect(result.reply.code).toBe(250);
    await session.quit();
  });

  it('reports a 421 reply to MAIL (-Q MAIL) as a temporary SmtpReplyError', async () => {
    sink = await startSmtpSink(['-Q', 'MAIL']);
    const client = createClient({ host: '127.0.0.1', port: sink.port, starttls: 'never', pool: false });
    const error = await client
      .send({ from: 'a@example.com', to: 'b@example.com', message: message('421') })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SmtpReplyError);
    expect((error as SmtpReplyError).code).toBe(421);
    expect((error as SmtpReplyError).isTemporary).toBe(true);
  });

  it('reports 4xx and 5xx recipients (-r RCPT, -f RCPT) with the command that failed', async () => {
    sink = await startSmtpSink(['-r', 'RCPT']);
    const soft = createClient({ host: '127.0.0.1', port: sink.port, starttls: 'never', pool: false });
    const temporary = await soft
      .send({ from: 'a@example.com', to: 'b@example.com', message: message('4xx') })
      .catch((caught: unknown) => caught);
    expect(temporary).toBeInstanceOf(SmtpReplyError);
    expect((temporary as SmtpReplyError).code).toBe(450);
    expect((temporary as SmtpReplyError).command).toBe('RCPT TO:<b@example.com>');
    await sink.stop();
    sink = await startSmtpSink(['-f', 'RCPT']);
    const hard = createClient({ host: '127.0.0.1', port: sink.port, starttls: 'never', pool: false });
    const permanent = await hard
      .send({ from: 'a@example.com', to: 'b@example.com', message: message('5xx') })
      .catch((caught: unknown) => caught);
    expect(permanent).toBeInstanceOf(SmtpReplyError);
    expect((permanent as SmtpReplyError).isPermanent).toBe(true);
    expect((permanent as SmtpReplyError).enhanced).toBe('5.3.0');
  });

  it('reports a connection dropped after the end of data (-q .) as SmtpConnectionError', async () => {
    sink = await startSmtpSink(['-q', '.']);
    const client = createClient({ host: '127.0.0.1', port: sink.port, starttls: 'never', pool: false });
    const error = await client
      .send({ from: 'a@example.com', to: 'b@example.com', message: message('drop') })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SmtpConnectionError);
  });

  it('refuses 8-bit data before MAIL when the server lacks 8BITMIME (-8)', async () => {
    sink = await startSmtpSink(['-8']);
    const client = createClient({ host: '127.0.0.1', port: sink.port, starttls: 'never', pool: false });
    const error = await client
      .send({ from: 'a@example.com', to: 'b@example.com', message: 'Subject: x\r\n\r\nna\u00efve\r\n' })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SmtpCapabilityError);
  });

  it('authenticates with PLAIN in plaintext on loopback unless allowPlaintext is false', async () => {
    sink = await startSmtpSink();
    const refused = createClient({
      host: '127.0.0.1',
      port: sink.port,
      starttls: 'opportunistic',
      pool: false,
      auth: { username: 'u', password: 'p', allowPlaintext: false },
    });
    await expect(
      refused.send({ from: 'a@example.com', to: 'b@example.com', message: message('auth') }),
    ).rejects.toBeInstanceOf(SmtpCapabilityError);
    const session = await connect({ host: '127.0.0.1', port: sink.port, starttls: 'never' });
    await session.ehlo();
    // Loopback: nothing crosses a network, so no allowPlaintext is needed.
    const reply = await session.auth({ username: 'alice', password: 'hunter2' });
    // smtp-sink answers any AUTH with a plain 2xx (not 235).
    expect(Math.floor(reply.code / 100)).toBe(2);
    // The transcript masks the credentials.
    expect(session.transcript).toContain('C: AUTH PLAIN ***');
    expect(session.transcript).not.toContain(Buffer.from('\0alice\0hunter2').toString('base64'));
    await session.quit();
  });

  it('speaks LMTP (-L): LHLO and one reply per recipient', async () => {
    sink = await startSmtpSink(['-L']);
    const client = createClient({
      host: '127.0.0.1',
      port: sink.port,
      starttls: 'never',
      lmtp: true,
      pool: false,
    });
    const result = await client.send({
      from: 'a@example.com',
      to: ['b@example.com', 'c@example.com'],
      message: message('lmtp'),
    });
    expect(result.accepted.map((entry) => entry.to)).toEqual(['b@example.com', 'c@example.com']);
    expect(result.reply.code).toBe(250);
  });

  it('sends DSN parameters when offered (RFC 3461)', async () => {
    sink = await startSmtpSink();
    const session = await connect({ host: '127.0.0.1', port: sink.port, starttls: 'never' });
    await session.ehlo();
    await session.data({
      from: 'a@example.com',
      to: 'b@example.com',
      message: message('dsn'),
      dsn: { ret: 'HDRS', envid: 'QQ314159', notify: ['FAILURE', 'DELAY'], orcpt: true },
    });
    await session.quit();
    expect(session.transcript).toMatch(/C: MAIL FROM:<a@example.com>.* RET=HDRS/);
    expect(session.transcript).toMatch(/ENVID=QQ314159/);
    expect(session.transcript).toMatch(
      /C: RCPT TO:<b@example.com> NOTIFY=FAILURE,DELAY ORCPT=rfc822;b@example.com/,
    );
  });
});
