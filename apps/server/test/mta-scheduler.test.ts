import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDeliveryRoom, type DeliveryRoom } from '../src/delivery/delivery-room.js';
import { defaultWindowOptions } from '../src/delivery/destination-window.js';
import type { DeliveryTransport, TransportJob } from '../src/delivery/transports/delivery-transport.js';
import { parseMessage } from '../src/mime/parse-message.js';
import { SqliteStorage } from '../src/sqlite/sqlite-storage.js';
import { FakeClock } from './support/fake-clock.js';
import { temporaryDirectory } from './support/messages.js';

// The scheduler's own rules, with a transport that answers when the test says so (delivery over
// real sockets is mta-delivery.test.ts): grouping per (message, destination), the bound on what is
// leased in memory, the destination window, and a graceful stop.
describe('DeliveryScheduler', () => {
  const clock = new FakeClock(Date.UTC(2026, 0, 5));
  let directory: ReturnType<typeof temporaryDirectory>;
  let storage: SqliteStorage;
  let room: DeliveryRoom;
  let jobs: TransportJob[];
  let release: (() => void)[];

  /** Delivers every recipient once the test releases the session. */
  const transport: DeliveryTransport = {
    async send(job) {
      jobs.push(job);
      await new Promise<void>((resolve) => release.push(resolve));
      return {
        session: 'success',
        recipients: job.deliveries.map((delivery) => ({
          deliveryId: delivery.id,
          attempt: {
            startedAt: clock.now(),
            endedAt: clock.now(),
            mxHost: `mx.${job.domain}`,
            tls: true,
            outcome: 'delivered',
            status: '2.0.0',
            rule: 'accepted',
            reply: { code: 250, enhanced: '2.0.0', lines: ['OK'] },
            error: null,
            transcript: '',
          },
        })),
      };
    },
  };

  function build(maxLeased?: number) {
    room = createDeliveryRoom({
      ...(maxLeased === undefined ? {} : { maxLeased }),
      spool: storage.spool,
      queue: storage.queue,
      transport,
      hostname: 'mta.test',
      clock,
      window: { ...defaultWindowOptions, initial: 1, max: 1 },
    });
  }

  beforeEach(() => {
    directory = temporaryDirectory();
    storage = new SqliteStorage({ parse: parseMessage, path: join(directory.path, 'messages.sqlite') });
    jobs = [];
    release = [];
    build();
  });
  afterEach(async () => {
    for (const resolve of release.splice(0)) resolve();
    await room.stop({ graceMs: 0 });
    await storage.close();
    directory.remove();
  });

  async function submit(id: string, to: string[]): Promise<void> {
    await room.accept({
      id,
      receivedAtMs: clock.now(),
      envelope: { from: 'a@sender.test', to, mailParameters: {}, rcptParameters: to.map(() => ({})) },
      session: null,
      source: new TextEncoder().encode(`Subject: ${id}\r\n\r\nx\r\n`),
    });
  }

  async function until(condition: () => boolean): Promise<void> {
    for (let tries = 0; !condition(); tries++) {
      if (tries > 500) throw new Error('timed out');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  it("sends one message's recipients at one destination in one transaction, one per destination window", async () => {
    await room.start();
    await submit('M1', ['x@a.test', 'y@a.test', 'z@b.test']);
    await submit('M2', ['w@a.test']);
    await until(() => jobs.length === 2);
    // a.test's window is 1: M2 waits for M1's session to end.
    expect(jobs.map((job) => [job.messageId, job.domain, job.deliveries.map((d) => d.recipient)])).toEqual([
      ['M1', 'a.test', ['x@a.test', 'y@a.test']],
      ['M1', 'b.test', ['z@b.test']],
    ]);
    for (const resolve of release.splice(0)) resolve();
    await until(() => jobs.length === 3);
    expect(jobs[2]?.messageId).toBe('M2');
    for (const resolve of release.splice(0)) resolve();
    await room.scheduler.idle();
    expect(await storage.queue.countByStatus()).toMatchObject({ delivered: 4, queued: 0, 'in-flight': 0 });
  });

  it('holds at most maxLeased deliveries in memory; the rest wait in the queue', async () => {
    await room.stop();
    build(2);
    for (const id of ['M1', 'M2', 'M3', 'M4']) await submit(id, [`${id.toLowerCase()}@a.test`]);
    await room.start();
    await until(() => jobs.length === 1);
    expect(room.scheduler.leasedCount).toBe(2);
    expect(await storage.queue.countByStatus()).toMatchObject({ 'in-flight': 2, queued: 2 });
    for (let delivered = 1; delivered <= 4; delivered++) {
      await until(() => release.length === 1);
      release.splice(0)[0]?.();
      await until(() => jobs.length === Math.min(4, delivered + 1) || delivered === 4);
    }
    await room.scheduler.idle();
    expect(await storage.queue.countByStatus()).toMatchObject({ delivered: 4, queued: 0, 'in-flight': 0 });
  });

  it('at start, queues the failure report a crash kept from being queued', async () => {
    // A worker recorded the failure and died before queueing the DSN.
    await submit('M1', ['gone@a.test', 'quiet@a.test']);
    await storage.queue.act(2, 'hold', clock.now()); // quiet@ is held: only gone@ is leased and fails
    const [leased] = await storage.queue.claimDue({
      now: clock.now(),
      limit: 1,
      holder: 'dead',
      leaseMs: 1000,
    });
    const failure = await storage.queue.recordAttempt({
      deliveryId: leased?.id ?? 0,
      fencing: 1,
      now: clock.now(),
      result: { kind: 'failed', cause: 'rejected' },
      attempt: {
        startedAt: clock.now(),
        endedAt: clock.now(),
        mxHost: 'mx.a.test',
        tls: false,
        outcome: 'failed',
        status: '5.1.1',
        rule: 'permanent',
        reply: { code: 550, enhanced: '5.1.1', lines: ['No such user'] },
        error: null,
        transcript: '',
      },
    });
    expect(failure.ok).toBe(true);
    expect(await storage.queue.unreportedFailures(10)).toHaveLength(1);
    await room.start();
    await until(() => jobs.length === 1);
    expect(jobs[0]?.envelope).toMatchObject({ from: '', to: ['a@sender.test'] });
    expect(new TextDecoder().decode(jobs[0]?.raw)).toMatch(
      /^Diagnostic-Code: smtp; 550 5\.1\.1 No such user$/m,
    );
    expect(await storage.queue.unreportedFailures(10)).toEqual([]);
    for (const resolve of release.splice(0)) resolve();
    await room.scheduler.idle();
    // Started again: nothing more to report.
    await room.stop();
    build();
    await room.start();
    await room.scheduler.idle();
    expect(jobs).toHaveLength(1);
  });

  it('a graceful stop lets the running session finish and returns leased deliveries to the queue', async () => {
    await room.start();
    await submit('M1', ['x@a.test']);
    await submit('M2', ['y@a.test']);
    await submit('M3', ['z@a.test']);
    await until(() => jobs.length === 1 && room.scheduler.leasedCount === 3);
    const stopped = room.stop({ graceMs: 60_000 });
    await until(() => release.length === 1);
    release.splice(0)[0]?.();
    await stopped;
    expect(jobs).toHaveLength(1); // nothing new started after stop
    const states = (await storage.queue.list({ limit: 10 })).map((delivery) => [
      delivery.recipient,
      delivery.state.status,
    ]);
    expect(states).toEqual([
      ['x@a.test', 'delivered'],
      ['y@a.test', 'queued'],
      ['z@a.test', 'queued'],
    ]);
  });
});
