import {
  createSaslClient,
  decodeBase64,
  deriveScramCredentials,
  encodeBase64,
  type SaslMechanismName,
} from '@smtp/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import type { SmtpServerOptions } from '../src/index.js';
import { createMemoryLogger } from './helpers/memory-logger.js';
import { authenticate, connectFrom } from './helpers/sasl-exchange.js';
import { startServer } from './helpers/server.js';
import { SmtpTalk } from './helpers/smtp-talk.js';

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

const password = 'correct horse';
// SCRAM: the server keeps only the derived keys (RFC 5802 §3), never the password.
const scram = deriveScramCredentials(password, { salt: new Uint8Array(16).fill(7) });

/** A server whose CRAM-MD5 / SCRAM-SHA-256 proofs are verified by the core, not by a hook. */
async function startSecretServer(logger = createMemoryLogger(), extra: Partial<SmtpServerOptions> = {}) {
  const started = await startServer({
    auth: { allowPlaintext: true },
    limits: { maxAuthFailures: 3 },
    logger,
    onAuthSecret({ mechanism, username }) {
      if (username !== 'alice') return null;
      return mechanism === 'SCRAM-SHA-256' ? { scram } : { password };
    },
    ...extra,
  });
  stops.push(started.stop);
  return { ...started, logger };
}

async function greeted(talk: SmtpTalk): Promise<SmtpTalk> {
  await talk.read();
  expect((await talk.command('EHLO client.test')).code).toBe(250);
  return talk;
}

async function waitFor(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('AUTH throttling of mechanisms the core verifies', () => {
  for (const mechanism of ['CRAM-MD5', 'SCRAM-SHA-256'] as const satisfies readonly SaslMechanismName[]) {
    it(`${mechanism}: wrong passwords count per client address; then 454 4.7.0; another address still gets in`, async () => {
      const { port, server, logger } = await startSecretServer();
      const attacker = await greeted(await SmtpTalk.connect(port));
      for (let attempt = 0; attempt < 3; attempt++) {
        const { final } = await authenticate(attacker, mechanism, {
          username: 'alice',
          password: `guess${attempt}`,
        });
        // RFC 4954 §6: 535 5.7.8 for credentials that are invalid.
        expect([final.code, final.enhanced]).toEqual([535, '5.7.8']);
      }
      // The right password from the throttled address is refused too: the throttle does not leak it.
      const { final: throttled } = await authenticate(attacker, mechanism, { username: 'alice', password });
      expect([throttled.code, throttled.enhanced]).toEqual([454, '4.7.0']);
      expect(throttled.lines.join(' ')).toMatch(/too many authentication failures/i);
      attacker.destroy();

      const other = await greeted(await connectFrom(port, '127.0.0.2'));
      const { final: ok } = await authenticate(other, mechanism, { username: 'alice', password });
      expect(ok.code).toBe(235);
      other.destroy();

      expect(server.metrics.snapshot()).toMatchObject({ authFailed: 3, authThrottled: 1, authSucceeded: 1 });
      const failures = logger.records.filter((record) => record.event === 'auth-failed');
      expect(failures.map((record) => [record.mechanism, record.reason, record.remoteAddress])).toEqual([
        [mechanism, 'invalid-credentials', '127.0.0.1'],
        [mechanism, 'invalid-credentials', '127.0.0.1'],
        [mechanism, 'invalid-credentials', '127.0.0.1'],
        [mechanism, 'throttled', '127.0.0.1'],
      ]);
      expect(failures[0]).toMatchObject({ level: 'warn', username: 'alice' });
    });
  }

  it('SCRAM-SHA-256: failures on separate connections add up (one guess per connection)', async () => {
    const { port, server } = await startSecretServer();
    for (let attempt = 0; attempt < 3; attempt++) {
      const talk = await greeted(await SmtpTalk.connect(port));
      const { final } = await authenticate(talk, 'SCRAM-SHA-256', { username: 'alice', password: 'nope' });
      expect(final.code).toBe(535);
      talk.destroy();
    }
    const talk = await greeted(await SmtpTalk.connect(port));
    const { final } = await authenticate(talk, 'SCRAM-SHA-256', { username: 'alice', password });
    expect(final.code).toBe(454);
    expect(server.metrics.snapshot()).toMatchObject({ authFailed: 3, authThrottled: 1, authSucceeded: 0 });
    talk.destroy();
  });

  it('a wrong proof pipelined with the next command is still counted', async () => {
    const { port, server } = await startSecretServer();
    const talk = await greeted(await SmtpTalk.connect(port));
    const { final } = await authenticate(talk, 'CRAM-MD5', { username: 'alice', password: 'nope' });
    expect(final.code).toBe(535);
    // SCRAM client-first, then the wrong client-final and NOOP in one write.
    const client = createSaslClient('SCRAM-SHA-256', { username: 'alice', password: 'nope' });
    talk.send(`AUTH SCRAM-SHA-256 ${encodeBase64(client.initialResponse() ?? new Uint8Array(0))}`);
    const serverFirst = await talk.read();
    expect(serverFirst.code).toBe(334);
    const clientFinal = client.respond(decodeBase64(serverFirst.lines[0] ?? '') ?? new Uint8Array(0));
    if (!clientFinal.ok) throw new Error(clientFinal.error);
    talk.write(`${encodeBase64(clientFinal.response)}\r\nNOOP\r\n`);
    expect((await talk.read()).code).toBe(535);
    expect((await talk.read()).code).toBe(250);
    expect(server.metrics.snapshot().authFailed).toBe(2);
    talk.destroy();
  });

  it('SCRAM-SHA-256: dropping the connection after the server-first-message uses up an attempt', async () => {
    const { port, server, logger } = await startSecretServer();
    for (let attempt = 0; attempt < 3; attempt++) {
      const talk = await greeted(await SmtpTalk.connect(port));
      const client = createSaslClient('SCRAM-SHA-256', { username: 'alice', password });
      talk.send(`AUTH SCRAM-SHA-256 ${encodeBase64(client.initialResponse() ?? new Uint8Array(0))}`);
      expect((await talk.read()).code).toBe(334);
      talk.destroy();
      await waitFor(() => server.metrics.snapshot().authFailed === attempt + 1);
    }
    expect(logger.records.filter((record) => record.event === 'auth-failed').map((r) => r.reason)).toEqual([
      'incomplete',
      'incomplete',
      'incomplete',
    ]);
    const talk = await greeted(await SmtpTalk.connect(port));
    expect((await authenticate(talk, 'SCRAM-SHA-256', { username: 'alice', password })).final.code).toBe(454);
    talk.destroy();
  });

  it('a successful exchange is not counted', async () => {
    const { port, server, logger } = await startSecretServer();
    for (const mechanism of ['CRAM-MD5', 'SCRAM-SHA-256'] as const) {
      const talk = await greeted(await SmtpTalk.connect(port));
      expect((await authenticate(talk, mechanism, { username: 'alice', password })).final.code).toBe(235);
      expect((await talk.command('QUIT')).code).toBe(221);
      await talk.closed();
    }
    await waitFor(() => logger.records.filter((record) => record.event === 'close').length === 2);
    expect(server.metrics.snapshot()).toMatchObject({ authFailed: 0, authSucceeded: 2 });
    expect(logger.records.some((record) => record.event === 'auth-failed')).toBe(false);
  });

  it('an unknown user counts like a wrong password', async () => {
    const { port, server } = await startSecretServer();
    const talk = await greeted(await SmtpTalk.connect(port));
    for (let attempt = 0; attempt < 3; attempt++) {
      expect(
        (await authenticate(talk, 'CRAM-MD5', { username: `mallory${attempt}`, password })).final.code,
      ).toBe(535);
    }
    expect((await authenticate(talk, 'CRAM-MD5', { username: 'alice', password })).final.code).toBe(454);
    expect(server.metrics.snapshot()).toMatchObject({ authFailed: 3, authThrottled: 1 });
    talk.destroy();
  });
});
