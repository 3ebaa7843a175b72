import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SmtpReplyError } from '../src/index.js';
import { createCertificate, type TestCertificate } from './helpers/certificates.js';
import { createMemoryLogger, type LogRecord } from './helpers/memory-logger.js';
import { startServer, streamToBuffer } from './helpers/server.js';
import { SmtpTalk } from './helpers/smtp-talk.js';

let certificate: TestCertificate;
beforeAll(() => {
  certificate = createCertificate('mx.test');
});
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

async function waitForEvent(records: LogRecord[], event: string): Promise<void> {
  const deadline = Date.now() + 3000;
  while (!records.some((record) => record.event === event)) {
    if (Date.now() > deadline) throw new Error(`no ${event} record`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** `event` or `event:detail`, the way an operator reads a debug log. */
function summary(record: LogRecord): string {
  if (record.event === 'command') return `command:${String(record.verb ?? record.rejected)}`;
  if (record.event === 'reply') return `reply:${String(record.code)}`;
  return String(record.event);
}

describe('debug logging: one record per command and per reply', () => {
  it('a whole session: connect, each command, each reply (pipelined ones split), message, close', async () => {
    const logger = createMemoryLogger();
    const { port } = await startServer({
      logger,
      async onData(stream) {
        await streamToBuffer(stream);
        return 'queued as X1';
      },
    });
    const talk = await SmtpTalk.connect(port);
    await talk.read();
    await talk.command('EHLO client.test');
    // RFC 2920: three commands in one write, three replies (which may leave in one write).
    talk.write('MAIL FROM:<a@c.test>\r\nRCPT TO:<b@mx.test>\r\nDATA\r\n');
    for (let index = 0; index < 3; index++) await talk.read();
    expect((await talk.command('Subject: hi\r\n\r\nbody\r\n.')).code).toBe(250);
    expect((await talk.command('NOOP')).code).toBe(250);
    expect((await talk.command('BOGUS')).code).toBe(500);
    expect((await talk.command('QUIT')).code).toBe(221);
    await talk.closed();
    await waitForEvent(logger.records, 'close');

    const records = logger.records.filter((record) => record.sessionId !== undefined);
    expect(records.map(summary)).toEqual([
      'connect',
      'reply:220',
      'command:EHLO',
      'reply:250',
      // The pipelined group is read before any of its replies leave (they go out in one write), and
      // that write is still logged as three replies.
      'command:MAIL',
      'command:RCPT',
      'command:DATA',
      'reply:250',
      'reply:250',
      'reply:354',
      'command:end-of-data',
      'message-accepted',
      'reply:250',
      // NOOP raises no core event: only its reply is logged.
      'reply:250',
      'command:BOGUS',
      'reply:500',
      'command:QUIT',
      'reply:221',
      'close',
    ]);
    const sessionIds = new Set(records.map((record) => record.sessionId));
    expect(sessionIds.size).toBe(1);
    expect(records.every((record) => record.remoteAddress === '127.0.0.1')).toBe(true);
    const multiline = records.find(
      (record) => record.event === 'reply' && String(record.text).includes('PIPELINING'),
    );
    expect(String(multiline?.text)).toMatch(/^250-mx\.test/);
    expect(records.find((record) => record.event === 'command' && record.verb === 'MAIL')).toMatchObject({
      level: 'debug',
      line: 'MAIL FROM:<a@c.test>',
    });
    expect(records.find((record) => record.event === 'message-accepted')).toMatchObject({ level: 'info' });
  });

  it('TLS, AUTH ok and failed (with mechanism, never the credentials), message rejected', async () => {
    const logger = createMemoryLogger();
    const { port } = await startServer({
      tls: certificate,
      logger,
      onAuth: (credentials) => 'password' in credentials && credentials.password === 'sesame',
      onData: async (stream) => {
        await streamToBuffer(stream);
        throw new SmtpReplyError({ code: 554, enhanced: '5.7.1', text: 'Spam' });
      },
    });
    const talk = await SmtpTalk.connect(port);
    await talk.read();
    await talk.command('EHLO client.test');
    await talk.command('STARTTLS');
    await talk.upgrade();
    await talk.command('EHLO client.test');
    const wrong = Buffer.from('\0alice\0letmein').toString('base64');
    const right = Buffer.from('\0alice\0sesame').toString('base64');
    expect((await talk.command(`AUTH PLAIN ${wrong}`)).code).toBe(535);
    expect((await talk.command(`AUTH PLAIN ${right}`)).code).toBe(235);
    await talk.command('MAIL FROM:<alice@c.test>');
    await talk.command('RCPT TO:<b@mx.test>');
    await talk.command('DATA');
    expect((await talk.command('spam\r\n.')).code).toBe(554);
    talk.destroy();
    await waitForEvent(logger.records, 'close');

    const records = logger.records.filter((record) => record.sessionId !== undefined);
    const notable = records.map(summary).filter((name) => !name.startsWith('reply:'));
    expect(notable).toEqual([
      'connect',
      'command:EHLO',
      'command:STARTTLS',
      'tls',
      'command:EHLO',
      'command:AUTH',
      'auth-failed',
      'command:AUTH',
      'auth-ok',
      'command:MAIL',
      'command:RCPT',
      'command:DATA',
      'command:end-of-data',
      'message-rejected',
      'close',
    ]);
    expect(records.find((record) => record.event === 'tls')).toMatchObject({
      protocol: expect.stringMatching(/^TLS/),
    });
    expect(records.find((record) => record.event === 'auth-failed')).toMatchObject({
      level: 'warn',
      mechanism: 'PLAIN',
      username: 'alice',
      reason: 'invalid-credentials',
    });
    expect(records.find((record) => record.event === 'auth-ok')).toMatchObject({
      mechanism: 'PLAIN',
      username: 'alice',
    });
    expect(records.find((record) => record.event === 'message-rejected')).toMatchObject({ code: 554 });
    const everything = JSON.stringify(records);
    for (const secret of ['letmein', 'sesame', wrong, right]) expect(everything).not.toContain(secret);
  });
});
