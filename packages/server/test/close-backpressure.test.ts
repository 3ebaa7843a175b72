import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { startServer, streamToBuffer } from './helpers/server.js';
import { SmtpTalk } from './helpers/smtp-talk.js';

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

describe('graceful close', () => {
  it('stops accepting, sends 421 to idle sessions, lets a transaction finish, then closes it', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { server, port } = await startServer({
      async onData(stream) {
        await streamToBuffer(stream);
        await gate;
        return 'Queued';
      },
    });
    const idle = await SmtpTalk.connect(port);
    await idle.read();
    await idle.command('EHLO idle.test');
    const busy = await SmtpTalk.connect(port);
    await busy.read();
    await busy.command('EHLO busy.test');
    await busy.command('MAIL FROM:<a@c.test>');
    await busy.command('RCPT TO:<b@mx.test>');
    await busy.command('DATA');
    busy.write('body\r\n.\r\n');
    await sleep(50);

    const closed = server.close({ deadlineMs: 5000 });
    expect(await idle.readLine()).toMatch(/^421 4\.3\.2/);
    await idle.closed();
    // No new connections.
    await expect(SmtpTalk.connect(port).then((talk) => talk.read())).rejects.toThrow();
    // The busy session's message is still accepted, then it is told 421.
    release();
    expect(await busy.readLine()).toBe('250 2.0.0 Queued');
    expect(await busy.readLine()).toMatch(/^421 4\.3\.2/);
    await busy.closed();
    await closed;
    expect(server.connectionCount).toBe(0);
  });

  it('at the deadline every session left gets 421 and is closed', async () => {
    const { server, port } = await startServer({
      async onData() {
        await new Promise(() => {});
      },
    });
    const talk = await SmtpTalk.connect(port);
    await talk.read();
    await talk.command('EHLO c.test');
    await talk.command('MAIL FROM:<a@c.test>');
    await talk.command('RCPT TO:<b@mx.test>');
    await talk.command('DATA');
    talk.write('stuck\r\n');
    await sleep(20);
    const started = Date.now();
    await server.close({ deadlineMs: 200 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(await talk.readLine()).toMatch(/^421/);
    await talk.closed();
  });
});

describe('backpressure and memory', () => {
  it('a slow onData consumer slows the socket: unread bytes stay bounded', async () => {
    let consumed = 0;
    let maxAhead = 0;
    let total = 0;
    const { port, stop, server } = await startServer({
      async onData(stream) {
        for await (const chunk of stream) {
          consumed += chunk.byteLength;
          maxAhead = Math.max(maxAhead, server.metrics.snapshot().messageBytesReceived - consumed);
          await sleep(2);
        }
        total = consumed;
      },
    });
    stops.push(stop);
    const talk = await SmtpTalk.connect(port);
    await talk.read();
    await talk.command('EHLO c.test');
    await talk.command('MAIL FROM:<a@c.test>');
    await talk.command('RCPT TO:<b@mx.test>');
    await talk.command('DATA');
    const line = `${'y'.repeat(998)}\r\n`;
    const body = line.repeat(8 * 1024); // 8 MiB
    talk.write(body);
    talk.write('.\r\n');
    expect((await talk.read(60_000)).code).toBe(250);
    expect(total).toBe(body.length);
    // highWaterMark 64 KiB plus what one socket read brings: far below the 8 MiB sent.
    expect(maxAhead).toBeLessThan(1024 * 1024);
    talk.destroy();
  });

  it('a client that never reads its replies does not make the server buffer without bound', async () => {
    const { port, stop } = await startServer({ timeouts: { commandMs: 60_000 } });
    stops.push(stop);
    const talk = await SmtpTalk.connect(port);
    await talk.read();
    talk.socket.pause(); // never read again
    const chunk = Buffer.from('NOOP\r\n'.repeat(10_000));
    const before = process.memoryUsage().rss;
    let sent = 0;
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline) {
      if (talk.socket.write(chunk)) sent += chunk.length;
      else {
        sent += chunk.length;
        const drained = await Promise.race([
          new Promise<boolean>((resolve) => talk.socket.once('drain', () => resolve(true))),
          sleep(500).then(() => false),
        ]);
        if (!drained) break;
      }
    }
    // The server stopped reading: our writes back up long before 3 s of NOOPs (hundreds of MB) went out.
    expect(talk.socket.writableLength).toBeGreaterThan(0);
    expect(sent).toBeLessThan(200 * 1024 * 1024);
    const growth = process.memoryUsage().rss - before;
    expect(growth).toBeLessThan(100 * 1024 * 1024);
    talk.destroy();
  });
});
