import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FinishedMailRetention } from '../src/delivery/finished-mail-retention.js';
import { parseMessage } from '../src/mime/parse-message.js';
import type { AttemptRecord } from '../src/queue/delivery-queue.js';
import { deliveryRows } from '../src/queue/router.js';
import { SqliteStorage } from '../src/sqlite/sqlite-storage.js';
import { FakeClock } from './support/fake-clock.js';
import { composeRaw, temporaryDirectory } from './support/messages.js';

const hour = 60 * 60_000;
const day = 24 * hour;

// Retention in MTA mode on the real SQLite queue with a fake clock: finished mail (every delivery
// delivered or failed) goes, with its message bytes, attempts and inbox entry, `maxAge` after its
// last delivery ended; a message with a delivery still queued stays however old it is.
describe('MTA retention of finished mail', () => {
  const start = Date.UTC(2026, 0, 5, 9, 0, 0);
  let clock: FakeClock;
  let directory: ReturnType<typeof temporaryDirectory>;
  let storage: SqliteStorage;

  beforeEach(() => {
    clock = new FakeClock(start);
    directory = temporaryDirectory();
    storage = new SqliteStorage({ parse: parseMessage, path: join(directory.path, 'messages.sqlite') });
  });
  afterEach(async () => {
    await storage.close();
    directory.remove();
  });

  async function enqueue(id: string, to: string[]): Promise<void> {
    const envelope = { from: 'alice@local.test', to, mailParameters: {}, rcptParameters: to.map(() => ({})) };
    await storage.spool.receive(new TextEncoder().encode(composeRaw({ subject: id })), {
      id,
      receivedAtMs: clock.now(),
      envelope,
      session: null,
      companionRows: deliveryRows({
        messageId: id,
        receivedAtMs: clock.now(),
        envelope,
        postmasterDomain: 'mta.local.test',
      }),
    });
  }

  async function finish(recipient: string, outcome: AttemptRecord['outcome']): Promise<void> {
    const delivery = (await storage.queue.list({ limit: 100 })).find(
      (entry) => entry.recipient === recipient,
    );
    if (delivery === undefined || delivery.state.status !== 'in-flight')
      throw new Error(`${recipient} is not leased`);
    const now = clock.now();
    const result = await storage.queue.recordAttempt({
      deliveryId: delivery.id,
      fencing: delivery.state.lease.fencing,
      now,
      result:
        outcome === 'delivered'
          ? { kind: 'succeeded' }
          : outcome === 'failed'
            ? { kind: 'failed', cause: 'rejected' }
            : { kind: 'deferred', nextDueAt: now + hour },
      attempt: {
        startedAt: now,
        endedAt: now,
        mxHost: 'mx.remote.test',
        tls: true,
        outcome,
        status: outcome === 'delivered' ? '2.0.0' : outcome === 'failed' ? '5.1.1' : '4.2.0',
        rule: outcome === 'delivered' ? 'accepted' : outcome === 'failed' ? 'permanent' : 'temporary',
        reply: null,
        error: null,
        transcript: '',
      },
    });
    expect(result.ok).toBe(true);
  }

  it('removes finished mail maxAge after its last delivery ended, and never unfinished mail', async () => {
    await enqueue('M1', ['one@remote.test']);
    await enqueue('M2', ['two@remote.test', 'later@remote.test']);
    await enqueue('M3', ['three@remote.test']);
    await storage.queue.claimDue({ now: clock.now(), limit: 10, holder: 'w', leaseMs: day });
    clock.advance(hour);
    await finish('one@remote.test', 'delivered');
    await finish('two@remote.test', 'delivered');
    await finish('later@remote.test', 'deferred'); // M2 is not finished
    clock.advance(hour);
    await finish('three@remote.test', 'failed');

    const purged: string[] = [];
    const retention = new FinishedMailRetention({
      queue: storage.queue,
      maxAgeMs: 7 * day,
      intervalMs: hour,
      clock,
      onPurged: (ids) => purged.push(...ids),
    });
    retention.start();
    const runTo = async (at: number) => {
      while (clock.now() < at) {
        clock.advance(Math.min(hour, at - clock.now()));
        await retention.runOnce(); // the timer's run, awaited
      }
    };
    await runTo(start + hour + 7 * day - 1);
    expect(purged).toEqual([]);
    await runTo(start + hour + 7 * day + hour);
    expect(purged).toEqual(['M1']);
    expect(await storage.spool.getReceived('M1')).toBeNull();
    expect(await storage.queue.show('M1')).toBeNull();
    expect(await storage.mailbox.get('M1')).toBeNull();
    expect(await storage.spool.getReceived('M3')).not.toBeNull();
    await runTo(start + 2 * hour + 7 * day + hour);
    expect(purged).toEqual(['M1', 'M3']);
    await runTo(start + 60 * day);
    expect(purged).toEqual(['M1', 'M3']);
    // M2 waits on a queued delivery: kept, with its attempts, however old.
    expect((await storage.queue.show('M2'))?.attempts).toHaveLength(2);
    expect(await storage.spool.getReceived('M2')).not.toBeNull();
    expect(await storage.queue.countByStatus()).toMatchObject({ delivered: 1, queued: 1, failed: 0 });
    await retention.stop();
  });
});
