import { afterEach, describe, expect, it } from 'vitest';
import { createClient, SmtpUsageError } from '../src/index.js';
import { type SinkServer, startSinkServer } from './sink-server.js';

let server: SinkServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

const message = (id: number) =>
  `From: a@example.com\r\nTo: b@example.com\r\nX-Test-Id: ${id}\r\nSubject: pool\r\n\r\nbody ${id}\r\n`;

function idsOf(messages: readonly string[]): number[] {
  return messages.map((body) => Number(/X-Test-Id: (\d+)/.exec(body)?.[1] ?? Number.NaN));
}

describe('pool', () => {
  it('delivers 1,000 concurrent sends over at most 5 connections, each exactly once', async () => {
    server = await startSinkServer();
    const client = createClient({
      host: '127.0.0.1',
      port: server.port,
      starttls: 'never',
      pool: { maxConnections: 5, maxMessagesPerConnection: 1000 },
    });
    const count = 1000;
    const results = await Promise.all(
      Array.from({ length: count }, (_, id) =>
        client.send({ from: 'a@example.com', to: 'b@example.com', message: message(id) }),
      ),
    );
    await client.close();
    expect(results.every((result) => result.reply.code === 250 && result.accepted.length === 1)).toBe(true);
    const ids = idsOf(server.messages).sort((a, b) => a - b);
    expect(ids).toEqual(Array.from({ length: count }, (_, id) => id));
    expect(server.maxOpenConnections()).toBeLessThanOrEqual(5);
    expect(server.maxOpenConnections()).toBeGreaterThan(1);
    // Connections are reused: far fewer connections than messages.
    expect(server.received.length).toBeLessThanOrEqual(5);
  });

  it('replaces a connection after maxMessagesPerConnection', async () => {
    server = await startSinkServer();
    const client = createClient({
      host: '127.0.0.1',
      port: server.port,
      starttls: 'never',
      pool: { maxConnections: 1, maxMessagesPerConnection: 3 },
    });
    for (let id = 0; id < 7; id++)
      await client.send({ from: 'a@example.com', to: 'b@example.com', message: message(id) });
    await client.close();
    expect(server.received.length).toBe(3);
    expect(server.received.every((lines) => lines.at(-1) === 'QUIT')).toBe(true);
  });

  it('reconnects after a 421 and sends the message once', async () => {
    // The first connection answers its second MAIL with 421 and closes (e.g. a server-side idle limit).
    server = await startSinkServer({
      onMail: (connection, index) => (connection === 0 && index === 1 ? '421 4.3.2 Shutting down' : null),
    });
    const client = createClient({
      host: '127.0.0.1',
      port: server.port,
      starttls: 'never',
      pool: { maxConnections: 1 },
    });
    for (let id = 0; id < 3; id++)
      await client.send({ from: 'a@example.com', to: 'b@example.com', message: message(id) });
    await client.close();
    expect(idsOf(server.messages)).toEqual([0, 1, 2]);
    expect(server.received.length).toBe(2);
  });

  it('keeps FIFO order with one connection', async () => {
    server = await startSinkServer();
    const client = createClient({
      host: '127.0.0.1',
      port: server.port,
      starttls: 'never',
      pool: { maxConnections: 1 },
    });
    await Promise.all(
      Array.from({ length: 20 }, (_, id) =>
        client.send({ from: 'a@example.com', to: 'b@example.com', message: message(id) }),
      ),
    );
    await client.close();
    expect(idsOf(server.messages)).toEqual(Array.from({ length: 20 }, (_, id) => id));
  });

  it('rate-limits message starts', async () => {
    server = await startSinkServer();
    const client = createClient({
      host: '127.0.0.1',
      port: server.port,
      starttls: 'never',
      pool: { maxConnections: 2, maxMessagesPerSecond: 20 },
    });
    const started = performance.now();
    // Bucket of 20 then 20/s: 30 messages need at least ~0.5 s.
    await Promise.all(
      Array.from({ length: 30 }, (_, id) =>
        client.send({ from: 'a@example.com', to: 'b@example.com', message: message(id) }),
      ),
    );
    const elapsedMs = performance.now() - started;
    await client.close();
    expect(server.messages.length).toBe(30);
    expect(elapsedMs).toBeGreaterThanOrEqual(450);
  });

  it('closes idle connections after idleTimeoutMs', async () => {
    server = await startSinkServer();
    const client = createClient({
      host: '127.0.0.1',
      port: server.port,
      starttls: 'never',
      pool: { idleTimeoutMs: 100 },
    });
    await client.send({ from: 'a@example.com', to: 'b@example.com', message: message(1) });
    expect(client.stats.connections).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(client.stats.connections).toBe(0);
    expect(server.received[0]?.at(-1)).toBe('QUIT');
    await client.close();
  });

  it('close() waits for queued sends, then refuses new ones', async () => {
    server = await startSinkServer();
    const client = createClient({
      host: '127.0.0.1',
      port: server.port,
      starttls: 'never',
      pool: { maxConnections: 2 },
    });
    const sends = Array.from({ length: 10 }, (_, id) =>
      client.send({ from: 'a@example.com', to: 'b@example.com', message: message(id) }),
    );
    // prepareSend is async: let the sends reach the queue before closing.
    await new Promise((resolve) => setImmediate(resolve));
    const closed = client.close();
    await expect(Promise.all(sends)).resolves.toHaveLength(10);
    await closed;
    await expect(
      client.send({ from: 'a@example.com', to: 'b@example.com', message: message(99) }),
    ).rejects.toBeInstanceOf(SmtpUsageError);
    expect(server.messages.length).toBe(10);
  });

  it('an aborted queued send never reaches the server', async () => {
    server = await startSinkServer();
    const client = createClient({
      host: '127.0.0.1',
      port: server.port,
      starttls: 'never',
      pool: { maxConnections: 1 },
    });
    const first = client.send({ from: 'a@example.com', to: 'b@example.com', message: message(1) });
    const controller = new AbortController();
    const second = client.send({
      from: 'a@example.com',
      to: 'b@example.com',
      message: message(2),
      signal: controller.signal,
    });
    controller.abort(new Error('changed my mind'));
    await expect(second).rejects.toThrow('changed my mind');
    await first;
    await client.close();
    expect(idsOf(server.messages)).toEqual([1]);
  });
});
