import { join } from 'node:path';
import { type AiosmtpdPeer, type DnsStub, startAiosmtpd, startDnsStub } from '@smtp/test-support';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDeliveryRoom, type DeliveryRoom } from '../src/delivery/delivery-room.js';
import { defaultWindowOptions, type WindowOptions } from '../src/delivery/destination-window.js';
import { createRemoteTransport } from '../src/delivery/transports/remote-transport.js';
import { parseMessage } from '../src/mime/parse-message.js';
import { createMessageId } from '../src/pipeline/message-id.js';
import type { DeliveryQueue } from '../src/queue/delivery-queue.js';
import { SqliteStorage } from '../src/sqlite/sqlite-storage.js';
import { FakeClock } from './support/fake-clock.js';
import { temporaryDirectory } from './support/messages.js';
import { freePort } from './support/mta-testbed.js';

// Leasing at insert: a message the queue sink stores has its deliveries leased to the local
// scheduler in the transaction that stores it, so no claim follows its 250. Real SQLite storage,
// the real remote transport, aiosmtpd as the domain's MX (127.0.0.2, named by the DNS stub).
describe('MTA: deliveries leased in the insert that stores them', () => {
  const clock = new FakeClock(Date.UTC(2026, 0, 5, 9, 0, 0));
  let dns: DnsStub;
  let remote: AiosmtpdPeer;
  let directory: ReturnType<typeof temporaryDirectory> | null = null;
  let storage: SqliteStorage | null = null;
  let room: DeliveryRoom | null = null;
  let closeTransport: (() => Promise<void>) | null = null;

  beforeAll(async () => {
    remote = await startAiosmtpd({ host: '127.0.0.2', port: await freePort('127.0.0.2') });
    dns = await startDnsStub({
      'lease.test': { mx: [{ preference: 10, exchange: 'mx.lease.test' }] },
      'mx.lease.test': { a: ['127.0.0.2'] },
    });
  }, 30_000);

  afterAll(async () => {
    await Promise.all([dns?.close(), remote?.stop()]);
  });

  afterEach(async () => {
    await room?.stop({ graceMs: 1000 });
    await closeTransport?.();
    await storage?.close();
    directory?.remove();
    room = null;
    storage = null;
    directory = null;
  });

  /** The room over SQLite, with every claimDue counted. */
  async function startRoom(
    maxLeased?: number,
    window?: WindowOptions,
  ): Promise<{ claims: () => number; queue: DeliveryQueue }> {
    directory = temporaryDirectory();
    storage = new SqliteStorage({ parse: parseMessage, path: join(directory.path, 'messages.sqlite') });
    const sqliteQueue = storage.queue;
    let claims = 0;
    // Every method of the real queue, bound to it (its private fields need it); claimDue counted.
    const queue = new Proxy(sqliteQueue, {
      get(target, key) {
        if (key === 'claimDue')
          return (request: Parameters<DeliveryQueue['claimDue']>[0]) => {
            claims += 1;
            return target.claimDue(request);
          };
        const value = Reflect.get(target, key, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const transport = createRemoteTransport({
      hostname: 'mta.local.test',
      dnsServers: [dns.address],
      port: remote.port,
      clock,
      mtaSts: false,
      connectionReuse: null,
    });
    closeTransport = () => transport.close();
    room = createDeliveryRoom({
      spool: storage.spool,
      queue,
      transport,
      hostname: 'mta.local.test',
      clock,
      ...(maxLeased === undefined ? {} : { maxLeased }),
      ...(window === undefined ? {} : { window }),
    });
    await room.start();
    return { claims: () => claims, queue };
  }

  async function accept(to: readonly string[]): Promise<string> {
    const id = createMessageId(clock.now());
    await room?.accept({
      id,
      receivedAtMs: clock.now(),
      envelope: { from: 'alice@sender.test', to, mailParameters: {}, rcptParameters: to.map(() => ({})) },
      session: null,
      source: new TextEncoder().encode(`Subject: ${id}\r\nMessage-ID: <${id}@sender.test>\r\n\r\nHi.\r\n`),
    });
    return id;
  }

  it('delivers what the sink stored without a claim, each delivery on its first lease', async () => {
    const { claims, queue } = await startRoom();
    const claimsAtStart = claims();
    const before = remote.messages.length;
    const ids: string[] = [];
    for (let index = 0; index < 8; index++) ids.push(await accept([`user${index}@lease.test`]));
    await remote.waitForMessages(before + 8);
    await room?.scheduler.idle();
    expect(claims()).toBe(claimsAtStart);
    for (const id of ids) {
      const shown = await queue.show(id);
      expect(shown?.deliveries).toHaveLength(1);
      expect(shown?.deliveries[0]).toMatchObject({ state: { status: 'delivered', attempts: 1, fencing: 1 } });
    }
  }, 30_000);

  it('leaves deliveries to a claim when leasing them would pass maxLeased, and still delivers', async () => {
    const { claims, queue } = await startRoom(1);
    const claimsAtStart = claims();
    const before = remote.messages.length;
    // Two recipients: more than the one lease the scheduler may hold.
    const id = await accept(['one@lease.test', 'two@lease.test']);
    await remote.waitForMessages(before + 1);
    await room?.scheduler.idle();
    expect(claims()).toBeGreaterThan(claimsAtStart);
    const shown = await queue.show(id);
    expect(shown?.deliveries.map((delivery) => delivery.state.status)).toEqual(['delivered', 'delivered']);
  }, 30_000);

  it('deliveries leased at insert for a rate-limited destination start at its next slot', async () => {
    // One session start per second: of two messages stored at once, the second waits a second, on a
    // timer, not for the next claim (the once-a-minute requeue would be the next one).
    const { claims } = await startRoom(undefined, { ...defaultWindowOptions, rate: 1, burst: 1 });
    const claimsAtStart = claims();
    const before = remote.messages.length;
    await Promise.all([accept(['first@lease.test']), accept(['second@lease.test'])]);
    await remote.waitForMessages(before + 1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(remote.messages).toHaveLength(before + 1); // rate-limited
    clock.advance(1000);
    await remote.waitForMessages(before + 2);
    // The timer's pump may claim once; nothing else did.
    expect(claims()).toBeLessThanOrEqual(claimsAtStart + 1);
  }, 30_000);
});
