import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectionLimiter, clientKey } from '../src/limits.js';
import { startServer, streamToBuffer } from './helpers/server.js';
import { SmtpTalk } from './helpers/smtp-talk.js';

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

describe('connection limits', () => {
  it('maxConnections: the next client gets 421 through the greeting policy and is closed', async () => {
    const { port, stop, server } = await startServer({ limits: { maxConnections: 2 } });
    stops.push(stop);
    const first = await SmtpTalk.connect(port);
    const second = await SmtpTalk.connect(port);
    await first.read();
    await second.read();
    const third = await SmtpTalk.connect(port);
    // The core's greeting policy: our hostname first, no enhanced status on an opening reply (RFC 2034 §4).
    expect(await third.readLine()).toBe('421 mx.test Too many connections, try again later');
    await third.closed();
    first.destroy();
    await sleep(50);
    const fourth = await SmtpTalk.connect(port);
    expect((await fourth.read()).code).toBe(220);
    expect(server.metrics.snapshot().connectionsRefused).toBe(1);
    second.destroy();
    fourth.destroy();
  });

  it('maxConnectionsPerIp counts per client address', async () => {
    const { port, stop } = await startServer({
      limits: { maxConnectionsPerIp: 1, connectionLimitExemptions: [] },
    });
    stops.push(stop);
    const first = await SmtpTalk.connect(port);
    await first.read();
    const second = await SmtpTalk.connect(port);
    expect((await second.read()).code).toBe(421);
    first.destroy();
  });
});

describe('session limits', () => {
  it('maxMessageBytes: advertised with SIZE, a larger declaration is refused, a larger body aborts the stream', async () => {
    const aborts: string[] = [];
    const { port, stop } = await startServer({
      limits: { maxMessageBytes: 1000 },
      async onData(stream) {
        try {
          await streamToBuffer(stream);
        } catch (error) {
          aborts.push((error as Error).name);
          throw error;
        }
      },
    });
    stops.push(stop);
    const talk = await SmtpTalk.connect(port);
    await talk.read();
    const ehlo = await talk.command('EHLO client.test');
    expect(ehlo.lines).toContain('SIZE 1000');
    expect(await talk.readLineAfter('MAIL FROM:<a@c.test> SIZE=5000')).toMatch(/^552 5\.3\.4/);
    await talk.command('MAIL FROM:<a@c.test>');
    await talk.command('RCPT TO:<b@mx.test>');
    await talk.command('DATA');
    talk.write(`${'x'.repeat(70)}\r\n`.repeat(40));
    talk.write('.\r\n');
    expect(await talk.readLine()).toMatch(/^552 5\.3\.4/);
    expect(aborts).toEqual(['MessageAbortedError']);
    expect((await talk.command('NOOP')).code).toBe(250);
    talk.destroy();
  });

  it('maxRecipients: 452 4.5.3 after the limit', async () => {
    const { port, stop } = await startServer({ limits: { maxRecipients: 2 } });
    stops.push(stop);
    const talk = await SmtpTalk.connect(port);
    await talk.read();
    await talk.command('EHLO client.test');
    await talk.command('MAIL FROM:<a@c.test>');
    expect((await talk.command('RCPT TO:<b1@mx.test>')).code).toBe(250);
    expect((await talk.command('RCPT TO:<b2@mx.test>')).code).toBe(250);
    expect(await talk.readLineAfter('RCPT TO:<b3@mx.test>')).toMatch(/^452 4\.5\.3/);
    talk.destroy();
  });

  it('maxErrors: too many bad commands end with 421', async () => {
    const { port, stop } = await startServer({ limits: { maxErrors: 3 } });
    stops.push(stop);
    const talk = await SmtpTalk.connect(port);
    await talk.read();
    const codes: number[] = [];
    for (let index = 0; index < 4; index++) {
      talk.send('BOGUS');
      codes.push((await talk.read()).code);
    }
    expect(codes.at(-1)).toBe(421);
    await talk.closed();
  });

  it('an overlong command line is refused without buffering it', async () => {
    const { port, stop } = await startServer({});
    stops.push(stop);
    const talk = await SmtpTalk.connect(port);
    await talk.read();
    talk.send(`NOOP ${'x'.repeat(100_000)}`);
    expect(await talk.readLine()).toMatch(/^500 5\.5\.6/);
    expect((await talk.command('NOOP')).code).toBe(250);
    talk.destroy();
  });
});

describe('timeouts', () => {
  it('command timeout: an idle client gets 421 4.4.2 and is closed', async () => {
    const { port, stop, server } = await startServer({ timeouts: { commandMs: 200 } });
    stops.push(stop);
    const talk = await SmtpTalk.connect(port);
    await talk.read();
    await talk.command('EHLO client.test');
    const started = Date.now();
    expect(await talk.readLine(2000)).toMatch(/^421 4\.4\.2/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    await talk.closed();
    expect(server.metrics.snapshot().timeouts).toBe(1);
  });

  it('data timeout applies inside DATA, and the message stream is aborted', async () => {
    const outcomes: string[] = [];
    const { port, stop } = await startServer({
      timeouts: { commandMs: 5000, dataMs: 200 },
      async onData(stream) {
        try {
          await streamToBuffer(stream);
          outcomes.push('ended');
        } catch (error) {
          outcomes.push((error as Error).name);
        }
      },
    });
    stops.push(stop);
    const talk = await SmtpTalk.connect(port);
    await talk.read();
    await talk.command('EHLO client.test');
    await talk.command('MAIL FROM:<a@c.test>');
    await talk.command('RCPT TO:<b@mx.test>');
    await talk.command('DATA');
    talk.write('partial line');
    expect(await talk.readLine(2000)).toMatch(/^421 4\.4\.2/);
    await talk.closed();
    expect(outcomes).toEqual(['MessageAbortedError']);
  });

  it('greeting timeout bounds how long a trusted proxy may take to send its header', async () => {
    const { port, stop } = await startServer({
      timeouts: { greetingMs: 150 },
      proxyProtocol: { trustedUpstreams: ['127.0.0.1'] },
    });
    stops.push(stop);
    const talk = await SmtpTalk.connect(port);
    await talk.closed(2000);
  });

  it('no artificial greeting delay by default; the early-talker check is opt-in', async () => {
    const fast = await startServer({});
    stops.push(fast.stop);
    const started = Date.now();
    const talk = await SmtpTalk.connect(fast.port);
    await talk.read();
    expect(Date.now() - started).toBeLessThan(50);
    talk.destroy();

    const careful = await startServer({ earlyTalker: { delayMs: 200 } });
    stops.push(careful.stop);
    const early = await SmtpTalk.connect(careful.port);
    early.send('EHLO too.early');
    expect((await early.read()).code).toBe(554);
    // Its early EHLO is dropped, not answered; then it waits for QUIT like any refused session.
    expect((await early.command('NOOP')).code).toBe(503);
    expect((await early.command('QUIT')).code).toBe(221);
    await early.closed();
    const polite = await SmtpTalk.connect(careful.port);
    expect((await polite.read()).code).toBe(220);
    polite.destroy();
  });

  it('the early-talker check also runs with a custom greeting text', async () => {
    const careful = await startServer({ earlyTalker: { delayMs: 200 }, greetingText: 'ESMTP ready' });
    stops.push(careful.stop);
    const early = await SmtpTalk.connect(careful.port);
    early.send('EHLO too.early');
    expect((await early.read()).code).toBe(554);
    early.destroy();
    const polite = await SmtpTalk.connect(careful.port);
    const greeting = await polite.read();
    expect([greeting.code, greeting.lines]).toEqual([220, [expect.stringMatching(/ ESMTP ready$/)]]);
    polite.destroy();
  });
});

describe('per-address counting units', () => {
  it('counts IPv4 addresses singly and IPv6 addresses per /64', () => {
    expect(clientKey('192.0.2.1')).toBe('192.0.2.1');
    expect(clientKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(clientKey('2001:DB8:0:0:ffff::2')).toBe('2001:db8:0:0::/64');
    expect(clientKey('2001:db8:0:1::1')).toBe('2001:db8:0:1::/64');
    expect(clientKey('::1')).toBe('0:0:0:0::/64');
    expect(clientKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(clientKey('64:ff9b::192.0.2.1')).toBe('64:ff9b:0:0::/64');
    expect(clientKey('1:2:3:4:5:6:192.0.2.1')).toBe('1:2:3:4::/64');
    expect(clientKey('unix')).toBeNull();
  });

  it('refuses a second address of the same /64 once the first holds the limit', () => {
    const limiter = new ConnectionLimiter({ maxConnectionsPerIp: 2 });
    expect(limiter.acquire('2001:db8::1')).toBe('ok');
    expect(limiter.acquire('2001:db8::2')).toBe('ok');
    expect(limiter.acquire('2001:db8::3')).toBe('per-ip');
    expect(limiter.acquire('2001:db8:0:1::1')).toBe('ok');
    limiter.release('2001:db8::1');
    expect(limiter.acquire('2001:db8::3')).toBe('ok');
    // Unix sockets carry no address: never counted per address.
    expect(limiter.acquire('unix')).toBe('ok');
    expect(limiter.acquire('unix')).toBe('ok');
    expect(limiter.acquire('unix')).toBe('ok');
  });

  it('counts attempts in fixed windows, refused ones included', () => {
    let now = 0;
    const limiter = new ConnectionLimiter(
      { maxConnectionRatePerIp: 2, connectionRateWindowMs: 1000 },
      () => now,
    );
    expect(limiter.acquire('192.0.2.1')).toBe('ok');
    expect(limiter.acquire('192.0.2.1')).toBe('ok');
    expect(limiter.acquire('192.0.2.1')).toBe('rate');
    expect(limiter.acquire('192.0.2.2')).toBe('ok');
    now = 999;
    expect(limiter.acquire('192.0.2.1')).toBe('rate');
    now = 1000;
    expect(limiter.acquire('192.0.2.1')).toBe('ok');
  });
});
