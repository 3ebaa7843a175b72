import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseMessage } from '../src/mime/parse-message.js';
import type { AttemptRecord } from '../src/queue/delivery-queue.js';
import { deliveryRows } from '../src/queue/router.js';
import { schemaMigrations } from '../src/sqlite/sqlite-schema.js';
import { SqliteStorage } from '../src/sqlite/sqlite-storage.js';
import { composeRaw, temporaryDirectory } from './support/messages.js';

// The delivery queue contract on SQLite: enqueue as companion rows of the message, lease with
// fencing, attempts recorded with their outcome, expired leases requeued, operators' actions.
describe('SqliteDeliveryQueue', () => {
  let directory: ReturnType<typeof temporaryDirectory>;
  let storage: SqliteStorage;
  const arrivedAt = 1_700_000_000_000;

  beforeEach(() => {
    directory = temporaryDirectory();
    storage = new SqliteStorage({ parse: parseMessage, path: join(directory.path, 'messages.sqlite') });
  });
  afterEach(async () => {
    await storage.close();
    directory.remove();
  });

  async function enqueue(id: string, to: string[]): Promise<void> {
    const envelope = {
      from: 'alice@local.test',
      to,
      mailParameters: { RET: 'HDRS' },
      rcptParameters: to.map(() => ({})),
    };
    await storage.spool.receive(new TextEncoder().encode(composeRaw({ subject: id })), {
      id,
      receivedAtMs: arrivedAt,
      envelope,
      session: null,
      companionRows: deliveryRows({
        messageId: id,
        receivedAtMs: arrivedAt,
        envelope,
        postmasterDomain: 'mta.local.test',
        recipientParameters: [
          { notify: ['FAILURE', 'DELAY'], orcpt: { addressType: 'rfc822', address: to[0] ?? '' } },
        ],
      }),
    });
  }

  const attempt = (outcome: AttemptRecord['outcome']): AttemptRecord => ({
    startedAt: arrivedAt + 10,
    endedAt: arrivedAt + 20,
    mxHost: 'mx.remote.test',
    tls: true,
    outcome,
    status: outcome === 'delivered' ? '2.0.0' : outcome === 'deferred' ? '4.2.0' : '5.1.1',
    rule: outcome === 'delivered' ? 'accepted' : outcome === 'deferred' ? 'temporary' : 'permanent',
    reply: { code: outcome === 'delivered' ? 250 : 450, enhanced: null, lines: ['said so'] },
    error: null,
    transcript: 'C: RCPT TO:<b@remote.test>\nS: 450 said so',
  });

  it('stores one delivery per recipient with NOTIFY and ORCPT, and leases the due ones once', async () => {
    await enqueue('M1', ['b@Remote.test', 'c@other.test', 'B@remote.test']);
    const shown = await storage.queue.show('M1');
    expect(shown?.deliveries.map((delivery) => [delivery.recipient, delivery.domain])).toEqual([
      ['b@Remote.test', 'remote.test'],
      ['c@other.test', 'other.test'],
    ]);
    expect(shown?.deliveries[0]?.notify).toEqual(['FAILURE', 'DELAY']);
    expect(shown?.deliveries[0]?.originalRecipient).toEqual({
      addressType: 'rfc822',
      address: 'b@Remote.test',
    });
    expect(shown?.deliveries[1]?.notify).toBeNull();
    expect(await storage.queue.nextDueAt()).toBe(arrivedAt);

    expect(
      await storage.queue.claimDue({ now: arrivedAt - 1, limit: 10, holder: 'w1', leaseMs: 1000 }),
    ).toEqual([]);
    const leased = await storage.queue.claimDue({ now: arrivedAt, limit: 10, holder: 'w1', leaseMs: 1000 });
    expect(leased.map((delivery) => delivery.lease.fencing)).toEqual([1, 1]);
    expect(await storage.queue.claimDue({ now: arrivedAt, limit: 10, holder: 'w2', leaseMs: 1000 })).toEqual(
      [],
    );
    expect(await storage.queue.countByStatus()).toMatchObject({ queued: 0, 'in-flight': 2 });
    expect(await storage.queue.nextDueAt()).toBeNull();
  });

  it("requeues at once the leases of an earlier run of this node, not other nodes' or its own", async () => {
    await enqueue('M9', ['a@one.test', 'b@two.test', 'c@three.test']);
    const lease = (holder: string, limit: number) =>
      storage.queue.claimDue({ now: arrivedAt, limit, holder, leaseMs: 600_000 });
    const [dead] = await lease('mta.local.test:111', 1);
    const [other] = await lease('mta.other.test:111', 1);
    const [own] = await lease('mta.local.test:222', 1);
    const request = {
      holderPrefix: 'mta.local.test:',
      currentHolder: 'mta.local.test:222',
      now: arrivedAt + 5,
    };
    expect(await storage.queue.requeueAbandoned(request)).toBe(1);
    expect((await storage.queue.get(dead?.id ?? 0))?.state).toMatchObject({
      status: 'queued',
      dueAt: arrivedAt + 5,
    });
    expect((await storage.queue.get(other?.id ?? 0))?.state.status).toBe('in-flight');
    expect((await storage.queue.get(own?.id ?? 0))?.state.status).toBe('in-flight');
    expect(await storage.queue.requeueAbandoned(request)).toBe(0);
  });

  it('records an attempt with its outcome, and refuses a report with a stale fencing number', async () => {
    await enqueue('M2', ['b@remote.test']);
    const [first] = await storage.queue.claimDue({ now: arrivedAt, limit: 1, holder: 'w1', leaseMs: 1000 });
    if (first === undefined) throw new Error('nothing leased');
    // The lease expires (the worker crashed or stalled): the delivery returns to the queue once.
    expect(await storage.queue.requeueExpired(arrivedAt + 999)).toBe(0);
    expect(await storage.queue.requeueExpired(arrivedAt + 1000)).toBe(1);
    const [second] = await storage.queue.claimDue({
      now: arrivedAt + 1000,
      limit: 1,
      holder: 'w2',
      leaseMs: 1000,
    });
    expect(second?.lease.fencing).toBe(2);

    const stale = await storage.queue.recordAttempt({
      deliveryId: first.id,
      fencing: first.lease.fencing,
      now: arrivedAt + 1100,
      result: { kind: 'succeeded' },
      attempt: attempt('delivered'),
    });
    expect(stale).toMatchObject({ ok: false, reason: expect.stringMatching(/stale report/) });

    const deferred = await storage.queue.recordAttempt({
      deliveryId: first.id,
      fencing: 2,
      now: arrivedAt + 1100,
      result: { kind: 'deferred', nextDueAt: arrivedAt + 600_000 },
      attempt: attempt('deferred'),
    });
    expect(deferred).toMatchObject({ ok: true, state: { status: 'queued', dueAt: arrivedAt + 600_000 } });
    const shown = await storage.queue.show('M2');
    expect(shown?.attempts).toHaveLength(1); // the stale report wrote nothing
    expect(shown?.attempts[0]).toMatchObject({
      fencing: 2,
      mxHost: 'mx.remote.test',
      tls: true,
      rule: 'temporary',
    });
    expect(shown?.deliveries[0]?.lastReply?.code).toBe(450);
    expect(await storage.queue.nextDueAt()).toBe(arrivedAt + 600_000);
  });

  it('takes operator actions through the state machine: hold, release, retry-now, bounce, delete', async () => {
    await enqueue('M3', ['b@remote.test']);
    const [delivery] = (await storage.queue.show('M3'))?.deliveries ?? [];
    if (delivery === undefined) throw new Error('no delivery');
    expect(await storage.queue.act(delivery.id, 'release', arrivedAt)).toMatchObject({ ok: false });
    expect(await storage.queue.act(delivery.id, 'hold', arrivedAt + 1)).toMatchObject({ ok: true });
    expect(await storage.queue.claimDue({ now: arrivedAt + 2, limit: 5, holder: 'w', leaseMs: 10 })).toEqual(
      [],
    );
    expect(await storage.queue.list({ status: 'held', limit: 10 })).toHaveLength(1);
    expect(await storage.queue.act(delivery.id, 'retry-now', arrivedAt + 3)).toMatchObject({
      ok: true,
      state: { status: 'queued', dueAt: arrivedAt + 3 },
    });
    expect(await storage.queue.act(delivery.id, 'bounce', arrivedAt + 4)).toMatchObject({
      ok: true,
      state: { status: 'failed', cause: 'bounced' },
    });
    expect(await storage.queue.act(delivery.id, 'delete', arrivedAt + 5)).toMatchObject({ ok: true });
    expect((await storage.queue.get(delivery.id))?.state.status).toBe('deleted');
    expect(await storage.queue.act(999, 'hold', arrivedAt)).toMatchObject({
      ok: false,
      reason: 'no such delivery',
    });
  });

  it('lists by status, by domain and by both, in id order, a keyset page at a time', async () => {
    await enqueue('L1', ['a@one.test', 'b@two.test']);
    await enqueue('L2', ['c@ONE.test']);
    await enqueue('L3', ['d@one.test', 'e@two.test']);
    const all = await storage.queue.list({ limit: 10 });
    const idOf = (recipient: string) => all.find((delivery) => delivery.recipient === recipient)?.id ?? -1;
    for (const recipient of ['b@two.test', 'd@one.test'])
      await storage.queue.act(idOf(recipient), 'hold', arrivedAt);
    const recipients = async (query: Parameters<typeof storage.queue.list>[0]) =>
      (await storage.queue.list(query)).map((delivery) => delivery.recipient);

    expect(all.map((delivery) => delivery.id)).toEqual(
      [...all.map((delivery) => delivery.id)].sort((a, b) => a - b),
    );
    expect(await recipients({ status: 'held', limit: 10 })).toEqual(['b@two.test', 'd@one.test']);
    expect(await recipients({ domain: 'One.Test', limit: 10 })).toEqual([
      'a@one.test',
      'c@ONE.test',
      'd@one.test',
    ]);
    expect(await recipients({ status: 'queued', domain: 'one.test', limit: 10 })).toEqual([
      'a@one.test',
      'c@ONE.test',
    ]);
    expect(await recipients({ status: 'queued', limit: 2, afterId: idOf('a@one.test') })).toEqual([
      'c@ONE.test',
      'e@two.test',
    ]);
    expect(await recipients({ domain: 'two.test', limit: 1, afterId: idOf('b@two.test') })).toEqual([
      'e@two.test',
    ]);
    expect(await recipients({ status: 'failed', limit: 10 })).toEqual([]);
  });

  it('counts deliveries by status through inserts, transitions and deletes', async () => {
    await enqueue('C1', ['a@one.test', 'b@two.test']);
    await enqueue('C2', ['c@one.test']);
    const [first, second] = await storage.queue.list({ limit: 10 });
    await storage.queue.act(first?.id ?? -1, 'hold', arrivedAt);
    await storage.queue.act(second?.id ?? -1, 'delete', arrivedAt);
    await storage.queue.claimDue({ now: arrivedAt + 1, limit: 5, holder: 'w', leaseMs: 10 });
    expect(await storage.queue.countByStatus()).toEqual({
      queued: 0,
      'in-flight': 1,
      held: 1,
      delivered: 0,
      failed: 0,
      deleted: 1,
    });
  });

  it('builds the counts of an existing queue when the counting migration runs', async () => {
    await enqueue('E1', ['a@one.test', 'b@two.test']);
    const [first] = await storage.queue.list({ limit: 1 });
    await storage.queue.act(first?.id ?? -1, 'hold', arrivedAt);
    await storage.close();
    const path = join(directory.path, 'messages.sqlite');
    const database = new Database(path);
    // The database as it was before the migration: no counts table, no triggers.
    database.exec('DROP TABLE delivery_counts');
    for (const trigger of ['insert', 'update', 'delete'])
      database.exec(`DROP TRIGGER deliveries_count_${trigger}`);
    database.exec(schemaMigrations.find((migration) => migration.includes('delivery_counts')) ?? '');
    database.close();
    storage = new SqliteStorage({ parse: parseMessage, path });
    expect(await storage.queue.countByStatus()).toMatchObject({ queued: 1, held: 1 });
    await enqueue('E2', ['c@one.test']);
    expect(await storage.queue.countByStatus()).toMatchObject({ queued: 2, held: 1 });
  });
});
