import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { startServer, streamToBuffer } from './helpers/server.js';
import { SmtpTalk } from './helpers/smtp-talk.js';

// Connection-slot exhaustion with real sockets: one address holding idle connections, clients that
// drip a byte now and then, and a normal client that must still be served. 127.0.0.1 is the
// attacker, 127.0.0.2 the normal client (both loopback, distinct addresses). Limits and deadlines
// are small so every test ends within a second or two.

const stops: (() => Promise<void>)[] = [];
const talks: SmtpTalk[] = [];
afterEach(async () => {
  for (const talk of talks.splice(0)) talk.destroy();
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

async function open(port: number, localAddress = '127.0.0.1'): Promise<SmtpTalk> {
  const talk = await SmtpTalk.connect(port, '127.0.0.1', localAddress);
  talks.push(talk);
  return talk;
}

/** A whole transaction from 127.0.0.2; returns the replies' codes. */
async function normalClient(port: number): Promise<number[]> {
  const talk = await open(port, '127.0.0.2');
  const codes = [(await talk.read()).code];
  for (const line of ['EHLO normal.test', 'MAIL FROM:<a@normal.test>', 'RCPT TO:<b@mx.test>', 'DATA']) {
    codes.push((await talk.command(line)).code);
  }
  talk.write('Subject: hi\r\n\r\nserved\r\n.\r\n');
  codes.push((await talk.read()).code);
  codes.push((await talk.command('QUIT')).code);
  return codes;
}

/** Sends `text` one byte every `everyMs` until the server closes (or the text runs out). */
function drip(talk: SmtpTalk, text: string, everyMs: number): void {
  let index = 0;
  const timer = setInterval(() => {
    if (index >= text.length || talk.socket.destroyed) return clearInterval(timer);
    talk.write(text[index] ?? '');
    index += 1;
  }, everyMs);
  talk.socket.once('close', () => clearInterval(timer));
}

describe('per-address connection limit (IPv4 address, IPv6 /64)', () => {
  it('is 50 by default: the 51st idle connection from one (counted) address gets 421 4.7.0', async () => {
    const { port, stop, server } = await startServer({ limits: { connectionLimitExemptions: [] } });
    stops.push(stop);
    const held = await Promise.all(Array.from({ length: 50 }, () => open(port)));
    for (const talk of held) expect((await talk.read()).code).toBe(220);
    const refused = await open(port);
    expect(await refused.readLine()).toBe('421 4.7.0 Too many connections from 127.0.0.1, try again later');
    await refused.closed();
    expect(server.metrics.snapshot().connectionsRefused).toBe(1);
    expect(await normalClient(port)).toEqual([220, 250, 250, 250, 354, 250, 221]);
  });

  it('an address holding its idle connections does not lock out another address', async () => {
    const { port, stop } = await startServer({
      limits: { maxConnections: 10, maxConnectionsPerIp: 3, connectionLimitExemptions: [] },
    });
    stops.push(stop);
    for (let index = 0; index < 3; index++) expect((await (await open(port)).read()).code).toBe(220);
    const fourth = await open(port);
    expect(await fourth.readLine()).toMatch(/^421 4\.7\.0 Too many connections from 127\.0\.0\.1/);
    await fourth.closed();
    expect(await normalClient(port)).toEqual([220, 250, 250, 250, 354, 250, 221]);
  });

  it('frees the slot when a connection closes', async () => {
    const { port, stop } = await startServer({
      limits: { maxConnectionsPerIp: 1, connectionLimitExemptions: [] },
    });
    stops.push(stop);
    const first = await open(port);
    await first.read();
    const second = await open(port);
    expect((await second.read()).code).toBe(421);
    first.destroy();
    await sleep(50);
    expect((await (await open(port)).read()).code).toBe(220);
  });

  it('exempts listed addresses (connectionLimitExemptions)', async () => {
    const { port, stop } = await startServer({
      limits: { maxConnectionsPerIp: 1, connectionLimitExemptions: ['127.0.0.0/8'] },
    });
    stops.push(stop);
    const first = await open(port);
    const second = await open(port);
    expect((await first.read()).code).toBe(220);
    expect((await second.read()).code).toBe(220);
  });

  it('exempts loopback by default: a local test suite is never locked out', async () => {
    const { port, stop } = await startServer({
      limits: { maxConnectionsPerIp: 1, maxConnectionRatePerIp: 1 },
    });
    stops.push(stop);
    const first = await open(port);
    const second = await open(port);
    expect((await first.read()).code).toBe(220);
    expect((await second.read()).code).toBe(220);
  });
});

describe('trusted proxies', () => {
  it('does not count a PROXY-protocol upstream per address: it carries many clients', async () => {
    const { port, stop } = await startServer({
      proxyProtocol: { trustedUpstreams: ['127.0.0.1'] },
      limits: { maxConnectionsPerIp: 1, maxConnectionRatePerIp: 1, connectionLimitExemptions: [] },
    });
    stops.push(stop);
    const proxied = await Promise.all([open(port), open(port), open(port)]);
    proxied.forEach((talk, index) => {
      talk.write(`PROXY TCP4 192.0.2.${index + 1} 192.0.2.100 4000 25\r\n`);
    });
    for (const talk of proxied) expect((await talk.read()).code).toBe(220);
  });
});

describe('per-address connection rate limit', () => {
  it('refuses attempts over the rate with 421 4.7.0; another address is still served', async () => {
    const { port, stop } = await startServer({
      limits: { maxConnectionRatePerIp: 3, connectionRateWindowMs: 60_000, connectionLimitExemptions: [] },
    });
    stops.push(stop);
    for (let index = 0; index < 3; index++) {
      const talk = await open(port);
      expect((await talk.read()).code).toBe(220);
      talk.destroy();
    }
    const fourth = await open(port);
    expect(await fourth.readLine()).toBe(
      '421 4.7.0 Too many connection attempts from 127.0.0.1, try again later',
    );
    await fourth.closed();
    expect(await normalClient(port)).toEqual([220, 250, 250, 250, 354, 250, 221]);
  });
});

describe('deadlines: total time per command line and per message', () => {
  it('closes drip clients with 421 4.4.2 at the command-line deadline, though they are never idle', async () => {
    const { port, stop, server } = await startServer({
      timeouts: { commandMs: 10_000, commandLineDeadlineMs: 400 },
    });
    stops.push(stop);
    const drippers = await Promise.all(Array.from({ length: 5 }, () => open(port)));
    const started = Date.now();
    for (const talk of drippers) {
      await talk.read(); // 220
      drip(talk, 'NOOP NOOP NOOP NOOP NOOP NOOP NOOP NOOP\r\n', 40); // one byte every 40 ms: never idle
    }
    // Served while the drippers hold their connections.
    expect(await normalClient(port)).toEqual([220, 250, 250, 250, 354, 250, 221]);
    for (const talk of drippers) {
      expect(await talk.readLine(3000)).toBe('421 4.4.2 Timeout waiting for input, closing connection');
      await talk.closed();
    }
    // Cut by the deadline, long before the 10 s idle timeout (the whole line would take 1.6 s).
    expect(Date.now() - started).toBeLessThan(1500);
    expect(server.metrics.snapshot().timeouts).toBe(5);
  });

  it('closes a client dripping message lines with 421 4.4.2 at the message deadline', async () => {
    const { port, stop } = await startServer({
      timeouts: { dataMs: 10_000, commandLineDeadlineMs: 400, messageDeadlineMs: 500 },
      async onData(stream) {
        await streamToBuffer(stream);
      },
    });
    stops.push(stop);
    const talk = await open(port);
    await talk.read();
    await talk.command('EHLO drip.test');
    await talk.command('MAIL FROM:<a@drip.test>');
    await talk.command('RCPT TO:<b@mx.test>');
    expect((await talk.command('DATA')).code).toBe(354);
    // Each line is quick, so only the message's total time can end this.
    drip(talk, 'a\r\n'.repeat(200), 20);
    expect(await talk.readLine(3000)).toBe('421 4.4.2 Timeout waiting for input, closing connection');
    await talk.closed();
  });

  it('counts a BDAT message from its first chunk to LAST, across the BDAT commands', async () => {
    const { port, stop } = await startServer({
      timeouts: { dataMs: 10_000, commandLineDeadlineMs: 400, messageDeadlineMs: 500 },
      async onData(stream) {
        await streamToBuffer(stream);
      },
    });
    stops.push(stop);
    const talk = await open(port);
    await talk.read();
    await talk.command('EHLO drip.test');
    await talk.command('MAIL FROM:<a@drip.test>');
    await talk.command('RCPT TO:<b@mx.test>');
    // Small chunks, each quick and answered: only the message's total time can end this.
    const timer = setInterval(() => {
      if (!talk.socket.destroyed) talk.write('BDAT 3\r\na\r\n');
    }, 40);
    talk.socket.once('close', () => clearInterval(timer));
    let line = '';
    while (!line.startsWith('421')) line = await talk.readLine(3000);
    clearInterval(timer);
    expect(line).toBe('421 4.4.2 Timeout waiting for input, closing connection');
    await talk.closed();
  });

  it('does not count a slow handler against the client', async () => {
    const { port, stop } = await startServer({
      timeouts: { commandLineDeadlineMs: 200, messageDeadlineMs: 300 },
      async onRcptTo() {
        await sleep(250);
      },
      async onData(stream) {
        await streamToBuffer(stream);
        await sleep(400);
      },
    });
    stops.push(stop);
    const talk = await open(port);
    await talk.read();
    await talk.command('EHLO slow.test');
    // Pipelined (RFC 2920): the later lines wait in the buffer while onRcptTo runs.
    talk.write('MAIL FROM:<a@slow.test>\r\nRCPT TO:<b@mx.test>\r\nRCPT TO:<c@mx.test>\r\nDATA\r\n');
    const codes = [];
    for (let index = 0; index < 4; index++) codes.push((await talk.read()).code);
    expect(codes).toEqual([250, 250, 250, 354]);
    talk.write('Subject: slow\r\n\r\nbody\r\n.\r\n');
    expect((await talk.read()).code).toBe(250);
    expect((await talk.command('QUIT')).code).toBe(221);
  });
});

describe('shorter timeouts under load', () => {
  it('caps idle timeouts once open connections reach the threshold of maxConnections', async () => {
    const { port, stop, server } = await startServer({
      limits: { maxConnections: 4 },
      timeouts: { commandMs: 60_000, underLoad: { threshold: 0.75, timeoutMs: 300 } },
    });
    stops.push(stop);
    // Two of four open: not under load (3 is), so the 60 s idle timeout holds.
    const first = await open(port);
    const second = await open(port);
    await first.read();
    await second.read();
    await expect(first.read(700)).rejects.toThrow('timeout waiting for a reply');
    // The third connection puts the server under load: sessions idle for 300 ms are closed now.
    const third = await open(port);
    await third.read();
    for (const talk of [first, second]) {
      expect(await talk.readLine(2000)).toBe('421 4.4.2 Timeout waiting for input, closing connection');
      await talk.closed();
    }
    expect(server.metrics.snapshot().timeouts).toBe(2);
    // That shed the load: the third (just active) and a new client are served as usual.
    expect((await third.command('NOOP')).code).toBe(250);
    expect(await normalClient(port)).toEqual([220, 250, 250, 250, 354, 250, 221]);
  });

  it('caps the command-line deadline under load: drip clients are cut sooner', async () => {
    const { port, stop } = await startServer({
      limits: { maxConnections: 4 },
      timeouts: { commandLineDeadlineMs: 10_000, underLoad: { threshold: 0.5, timeoutMs: 300 } },
    });
    stops.push(stop);
    // Two drippers make two of four connections: under load. They send a byte every 40 ms, so the
    // (also capped) idle timeout never fires; only the line deadline, 300 ms instead of 10 s, does.
    const drippers = [await open(port), await open(port)];
    const started = Date.now();
    for (const talk of drippers) {
      await talk.read();
      drip(talk, 'NOOP NOOP NOOP NOOP NOOP NOOP NOOP NOOP\r\n', 40);
    }
    for (const talk of drippers) {
      expect(await talk.readLine(3000)).toBe('421 4.4.2 Timeout waiting for input, closing connection');
      await talk.closed();
    }
    expect(Date.now() - started).toBeLessThan(1500);
  });
});
