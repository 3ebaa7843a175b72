import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { type AiosmtpdPeer, type DnsStub, startAiosmtpd, startDnsStub } from '@smtp/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeliveryRoom, type DeliveryRoom } from '../src/delivery/delivery-room.js';
import { defaultWindowOptions } from '../src/delivery/destination-window.js';
import { createRemoteTransport } from '../src/delivery/transports/remote-transport.js';
import { parseMessage } from '../src/mime/parse-message.js';
import { createMessageId } from '../src/pipeline/message-id.js';
import { SqliteStorage } from '../src/sqlite/sqlite-storage.js';
import { FakeClock } from './support/fake-clock.js';
import { temporaryDirectory } from './support/messages.js';
import { freePort } from './support/mta-testbed.js';

/** A TCP relay in front of a peer that counts connections and the client's RSET commands. */
interface CountingProxy {
  readonly port: number;
  readonly connections: () => number;
  readonly resets: () => number;
  close(): Promise<void>;
}

// Connection reuse per destination, through the MTA's delivery room and remote transport: 20
// messages to one domain reach aiosmtpd (behind a counting proxy on 127.0.0.6, the domain's MX)
// over far fewer connections than messages, one transaction after the other with no RSET between
// (the final reply already reset the server's state, RFC 5321 §4.1.1.4).
describe('MTA: connection reuse per destination', () => {
  const clock = new FakeClock(Date.UTC(2026, 0, 5, 9, 0, 0));
  let directory: ReturnType<typeof temporaryDirectory>;
  let storage: SqliteStorage;
  let dns: DnsStub;
  let remote: AiosmtpdPeer;
  let proxy: CountingProxy;
  let room: DeliveryRoom;
  let closeTransport: () => Promise<void>;

  beforeAll(async () => {
    remote = await startAiosmtpd({ host: '127.0.0.2', port: await freePort('127.0.0.2') });
    proxy = await startCountingProxy('127.0.0.6', remote.port, '127.0.0.2');
    dns = await startDnsStub({
      'reuse.test': { mx: [{ preference: 10, exchange: 'mx.reuse.test' }] },
      'mx.reuse.test': { a: ['127.0.0.6'] },
    });
    directory = temporaryDirectory();
    storage = new SqliteStorage({ parse: parseMessage, path: join(directory.path, 'messages.sqlite') });
    const transport = createRemoteTransport({
      hostname: 'mta.local.test',
      dnsServers: [dns.address],
      port: proxy.port,
      clock,
      mtaSts: false,
      connectionReuse: { idleTimeoutMs: 5000, maxMessagesPerConnection: 100, maxIdlePerHost: 4 },
    });
    closeTransport = () => transport.close();
    room = createDeliveryRoom({
      spool: storage.spool,
      queue: storage.queue,
      transport,
      hostname: 'mta.local.test',
      clock,
      // At most 2 sessions at once to the destination: so at most 2 connections if each is reused.
      window: { ...defaultWindowOptions, initial: 2, max: 2 },
    });
    await room.start();
  }, 30_000);

  afterAll(async () => {
    await room?.stop({ graceMs: 1000 });
    await closeTransport?.();
    await storage?.close();
    directory?.remove();
    await proxy?.close();
    await Promise.all([dns?.close(), remote?.stop()]);
  });

  it('20 messages to one domain use fewer connections than messages, no RSET between', async () => {
    const messages = 20;
    for (let index = 0; index < messages; index++) {
      const id = createMessageId(clock.now());
      await room.accept({
        id,
        receivedAtMs: clock.now(),
        envelope: {
          from: 'alice@sender.test',
          to: [`user${index}@reuse.test`],
          mailParameters: {},
          rcptParameters: [{}],
        },
        session: null,
        source: new TextEncoder().encode(`Subject: ${id}\r\nMessage-ID: <${id}@sender.test>\r\n\r\nHi.\r\n`),
      });
    }
    await remote.waitForMessages(messages);
    await room.scheduler.idle();
    expect(await storage.queue.countByStatus()).toMatchObject({ delivered: messages, queued: 0 });
    console.info(
      `${messages} messages to one domain: ${proxy.connections()} connections, ${proxy.resets()} RSET`,
    );
    // Without reuse: one connection per message. With it: one per concurrent session.
    expect(proxy.connections()).toBeLessThanOrEqual(2);
    expect(proxy.resets()).toBe(0);
    // A reused connection's transcript starts with the note and MAIL, without a new greeting.
    const attempts = (await storage.queue.list({ limit: 100 })).map((delivery) => delivery.messageId);
    const shown = await Promise.all(attempts.map((messageId) => storage.queue.show(messageId)));
    const reused = shown.filter((message) =>
      message?.attempts[0]?.transcript.includes('# reusing the connection'),
    );
    expect(reused).toHaveLength(messages - proxy.connections());
    expect(reused[0]?.attempts[0]?.transcript).not.toMatch(/S: 220 /);
    expect(reused[0]?.attempts[0]?.transcript).toMatch(
      /^\[mx.reuse.test\] # reusing the connection [^\n]*\n\[mx.reuse.test\] C: MAIL FROM:/,
    );
    expect(reused[0]?.attempts[0]?.transcript).not.toMatch(/C: RSET/);
  }, 60_000);
});

async function startCountingProxy(
  host: string,
  targetPort: number,
  targetHost: string,
): Promise<CountingProxy> {
  let connections = 0;
  let resets = 0;
  const server: Server = createServer((client) => {
    connections += 1;
    const upstream = connect(targetPort, targetHost);
    let pending = '';
    client.on('data', (chunk: Buffer) => {
      pending += chunk.toString('latin1');
      const lines = pending.split('\r\n');
      pending = lines.pop() ?? '';
      resets += lines.filter((line) => line.toUpperCase() === 'RSET').length;
    });
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(targetPort, host, () => resolve());
  });
  return {
    port: targetPort,
    connections: () => connections,
    resets: () => resets,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.unref();
      }),
  };
}
