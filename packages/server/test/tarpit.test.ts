import { afterEach, describe, expect, it } from 'vitest';
import { SmtpReplyError } from '../src/index.js';
import { tarpitDelayMs, tarpitPolicy } from '../src/tarpit.js';
import { startServer } from './helpers/server.js';
import { SmtpTalk } from './helpers/smtp-talk.js';

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

/** Milliseconds until the reply to `line` arrives, and the reply. */
async function timed(talk: SmtpTalk, line: string): Promise<{ ms: number; reply: string }> {
  const started = performance.now();
  const reply = await talk.readLineAfter(line);
  return { ms: performance.now() - started, reply };
}

describe('tarpit policy', () => {
  it('is off unless asked; then grows by delayMs per error after afterErrors, up to maxDelayMs', () => {
    expect(tarpitPolicy(undefined)).toBeNull();
    expect(tarpitPolicy({ delayMs: 0 })).toBeNull();
    const policy = tarpitPolicy({ delayMs: 1000 });
    expect(policy).toEqual({ delayMs: 1000, afterErrors: 1, maxDelayMs: 10_000 });
    if (policy === null) throw new Error('unreachable');
    expect([1, 2, 3, 4, 11, 12, 50].map((errors) => tarpitDelayMs(policy, errors))).toEqual([
      0, 1000, 2000, 3000, 10_000, 10_000, 10_000,
    ]);
    expect(() => tarpitPolicy({ delayMs: -1 })).toThrow(/tarpit.delayMs/);
    expect(() => tarpitPolicy({ delayMs: 10, afterErrors: 1.5 })).toThrow(/tarpit.afterErrors/);
  });
});

// Over real sockets: the delay is measured from the client's side. Only lower bounds are asserted
// (a loaded machine makes replies late, never early), plus one generous upper bound for "off".
describe('tarpitting over a socket', () => {
  it('delays refusals after the first, growing, for core and handler refusals alike', async () => {
    const { port, stop } = await startServer({
      tarpit: { delayMs: 300, afterErrors: 1, maxDelayMs: 700 },
      onRcptTo() {
        throw new SmtpReplyError({ code: 550, enhanced: '5.1.1', text: 'No such user' });
      },
    });
    stops.push(stop);
    const talk = await SmtpTalk.connect(port);
    await talk.read();
    expect((await timed(talk, 'EHLO client.test')).reply).toMatch(/^250/);
    expect((await timed(talk, 'MAIL FROM:<a@client.test>')).reply).toBe('250 2.1.0 Sender OK');
    const first = await timed(talk, 'RCPT TO:<nobody1@mx.test>'); // error 1: at once
    expect(first.reply).toBe('550 5.1.1 No such user');
    const second = await timed(talk, 'RCPT TO:<nobody2@mx.test>'); // error 2: 300 ms
    expect(second.reply).toBe('550 5.1.1 No such user');
    expect(second.ms).toBeGreaterThanOrEqual(290);
    const third = await timed(talk, 'BOGUS'); // error 3, the core's own refusal: 600 ms
    expect(third.reply).toMatch(/^500 5\.5\.[12]/);
    expect(third.ms).toBeGreaterThanOrEqual(590);
    const fourth = await timed(talk, 'RCPT TO:<nobody3@mx.test>'); // error 4: 900, capped at 700 ms
    expect(fourth.ms).toBeGreaterThanOrEqual(690);
    // A good command is not delayed by the tarpit: only refusals wait.
    const noop = await timed(talk, 'NOOP');
    expect(noop.reply).toMatch(/^250/);
    expect(noop.ms).toBeLessThan(first.ms + 600);
    talk.destroy();
  });

  it('keeps pipelined commands sent during the delay and answers them in order', async () => {
    const { port, stop } = await startServer({ tarpit: { delayMs: 200, afterErrors: 0 } });
    stops.push(stop);
    const talk = await SmtpTalk.connect(port);
    await talk.read();
    talk.send('BOGUS');
    talk.send('NOOP');
    talk.send('QUIT');
    expect(await talk.readLine()).toMatch(/^500/);
    expect(await talk.readLine()).toMatch(/^250/);
    expect(await talk.readLine()).toMatch(/^221/);
    await talk.closed();
  });

  it('is off by default: refusals are answered at once', async () => {
    const { port, stop } = await startServer({});
    stops.push(stop);
    const talk = await SmtpTalk.connect(port);
    await talk.read();
    const started = performance.now();
    for (let index = 0; index < 4; index++) expect(await talk.readLineAfter('BOGUS')).toMatch(/^500/);
    // With the tarpit of the first test these four would take ≥ 1.8 s.
    expect(performance.now() - started).toBeLessThan(1500);
    talk.destroy();
  });
});
