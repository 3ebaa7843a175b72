import { createTransport } from 'nodemailer';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SmtpReplyError } from '../src/index.js';
import { createCertificate, type TestCertificate } from './helpers/certificates.js';
import { startServer } from './helpers/server.js';
import { SmtpTalk } from './helpers/smtp-talk.js';

let certificate: TestCertificate;
beforeAll(() => {
  certificate = createCertificate('mx.test');
});
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

const users = new Map([['alice', 'correct horse']]);

describe('AUTH', () => {
  it('is not offered over plaintext by default, and offered after STARTTLS', async () => {
    const { port, stop } = await startServer({ tls: certificate, onAuth: () => true });
    stops.push(stop);
    const talk = await SmtpTalk.connect(port);
    await talk.read();
    const plain = await talk.command('EHLO client.test');
    expect(plain.lines.some((line) => line.startsWith('AUTH'))).toBe(false);
    await talk.command('STARTTLS');
    await talk.upgrade();
    const secure = await talk.command('EHLO client.test');
    expect(secure.lines).toContain('AUTH PLAIN LOGIN');
    talk.destroy();
  });

  for (const method of ['PLAIN', 'LOGIN'] as const) {
    it(`${method} through nodemailer over STARTTLS reaches onAuth and the session user`, async () => {
      const users_: string[] = [];
      const { port, stop } = await startServer({
        tls: certificate,
        onAuth(credentials) {
          if (credentials.mechanism !== 'PLAIN' && credentials.mechanism !== 'LOGIN') return false;
          return users.get(credentials.username) === credentials.password;
        },
        onMailFrom(_from, _parameters, session) {
          users_.push(`${session.user?.username}/${session.user?.mechanism}`);
        },
      });
      stops.push(stop);
      const transport = createTransport({
        host: '127.0.0.1',
        port,
        secure: false,
        requireTLS: true,
        tls: { rejectUnauthorized: false },
        auth: { user: 'alice', pass: 'correct horse', method },
      });
      const info = await transport.sendMail({ from: 'alice@c.test', to: 'bob@mx.test', text: 'hi' });
      expect(info.accepted).toEqual(['bob@mx.test']);
      expect(users_).toEqual([`alice/${method}`]);
      const wrong = createTransport({
        host: '127.0.0.1',
        port,
        requireTLS: true,
        tls: { rejectUnauthorized: false },
        auth: { user: 'alice', pass: 'wrong', method },
      });
      await expect(
        wrong.sendMail({ from: 'alice@c.test', to: 'bob@mx.test', text: 'hi' }),
      ).rejects.toMatchObject({
        responseCode: 535,
      });
    });
  }

  it('a thrown SmtpReplyError in onAuth is the reply', async () => {
    const { port, stop } = await startServer({
      tls: certificate,
      auth: { allowPlaintext: true },
      onAuth() {
        throw new SmtpReplyError({ code: 454, enhanced: '4.7.0', text: 'Directory unavailable' });
      },
    });
    stops.push(stop);
    const talk = await SmtpTalk.connect(port);
    await talk.read();
    await talk.command('EHLO client.test');
    // AUTH PLAIN \0alice\0pw
    expect(await talk.readLineAfter(`AUTH PLAIN ${Buffer.from('\0alice\0pw').toString('base64')}`)).toBe(
      '454 4.7.0 Directory unavailable',
    );
    talk.destroy();
  });

  it('throttles an address after repeated failures (454 4.7.0) without asking onAuth', async () => {
    let calls = 0;
    const { port, stop, server } = await startServer({
      auth: { allowPlaintext: true },
      limits: { maxAuthFailures: 3 },
      onAuth() {
        calls += 1;
        return false;
      },
    });
    stops.push(stop);
    const talk = await SmtpTalk.connect(port);
    await talk.read();
    await talk.command('EHLO client.test');
    const attempt = `AUTH PLAIN ${Buffer.from('\0alice\0guess').toString('base64')}`;
    for (let index = 0; index < 3; index++) expect((await talk.command(attempt)).code).toBe(535);
    const throttled = await talk.command(attempt);
    expect(throttled.code).toBe(454);
    expect(calls).toBe(3);
    expect(server.metrics.snapshot()).toMatchObject({ authFailed: 3, authThrottled: 1 });
    talk.destroy();
  });

  it('auth.required: MAIL before AUTH is refused with 530 5.7.0', async () => {
    const { port, stop } = await startServer({
      auth: { allowPlaintext: true, required: true },
      onAuth: () => true,
    });
    stops.push(stop);
    const talk = await SmtpTalk.connect(port);
    await talk.read();
    await talk.command('EHLO client.test');
    expect(await talk.readLineAfter('MAIL FROM:<a@c.test>')).toMatch(/^530 5\.7\.0/);
    expect((await talk.command(`AUTH PLAIN ${Buffer.from('\0alice\0x').toString('base64')}`)).code).toBe(235);
    expect((await talk.command('MAIL FROM:<a@c.test>')).code).toBe(250);
    talk.destroy();
  });
});
