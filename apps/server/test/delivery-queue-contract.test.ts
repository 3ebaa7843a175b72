import { join } from 'node:path';
import { type PostgresInstance, startPostgres } from '@smtp/test-support';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseMessage } from '../src/mime/parse-message.js';
import { PostgresStorage } from '../src/postgres/postgres-storage.js';
import type { AttemptRecord, DeliveryQueue } from '../src/queue/delivery-queue.js';
import { deliveryRows } from '../src/queue/router.js';
import type { MessageRepository } from '../src/spool/message-repository.js';
import { SqliteStorage } from '../src/sqlite/sqlite-storage.js';
import { composeRaw, temporaryDirectory } from './support/messages.js';

/** A store under test: the spool that enqueues (companion rows) and the queue that leases. */
interface QueueStore {
  readonly spool: MessageRepository;
  readonly queue: DeliveryQueue;
  close(): Promise<void>;
}

let postgres: PostgresInstance;
let databaseCount = 0;

beforeAll(async () => {
  postgres = await startPostgres();
}, 120_000);
afterAll(async () => {
  await postgres?.stop();
});

/** A fresh PostgreSQL database per test: the tests stay apart though they share one server. */
async function freshPostgresUrl(): Promise<string> {
  databaseCount += 1;
  return postgres.createDatabase(`contract_${process.pid}_${databaseCount}`);
}

const stores = {
  sqlite: async (): Promise<QueueStore> => {
    const directory = temporaryDirectory();
    const storage = new SqliteStorage({ parse: parseMessage, path: join(directory.path, 'messages.sqlite') });
    return {
      spool: storage.spool,
      queue: storage.queue,
      async close() {
        await storage.close();
        directory.remove();
      },
    };
  },
  postgres: async (): Promise<QueueStore> =>
    PostgresStorage.open({ url: await freshPostgresUrl(), destinationLimit: 100, onError: () => undefined }),
} as const;

const arrivedAt = 1_700_000_000_000;

async function enqueue(spool: MessageRepository, id: string, to: string[], receivedAtMs = arrivedAt) {
  const envelope = {
    from: 'alice@local.test',
    to,
    mailParameters: { RET: 'HDRS' },
    rcptParameters: to.map(() => ({})),
  };
  await spool.receive(new TextEncoder().encode(composeRaw({ subject: id })), {
    id,
    receivedAtMs,
    envelope,
    session: null,
    companionRows: deliveryRows({
      messageId: id,
      receivedAtMs,
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

// One contract, every adapter, one suite (GUIDE §2.8 habit 2): the same cases on SQLite and PostgreSQL.
describe.each(Object.keys(stores) as (keyof typeof stores)[])('the delivery queue contract on %s', (kind) => {
  let store: QueueStore;

  beforeEach(async () => {
    store = await stores[kind]();
  }, 60_000);
  afterEach(async () => {
    await store.close();
  });

  it('keeps the message with its deliveries, and stores nothing when a companion row fails', async () => {
    await enqueue(store.spool, 'M0', ['b@remote.test']);
    const received = await store.spool.getReceived('M0');
    expect(received?.envelope).toEqual({
      from: 'alice@local.test',
      to: ['b@remote.test'],
      mailParameters: { RET: 'HDRS' },
      rcptParameters: [{}],
    });
    expect(new TextDecoder().decode((await store.spool.getRaw('M0')) ?? new Uint8Array())).toContain(
      'Subject: M0',
    );
    await expect(
      store.spool.receive(new Uint8Array([1]), {
        id: 'M-bad',
        receivedAtMs: arrivedAt,
        envelope: { from: '', to: [], mailParameters: {}, rcptParameters: [] },
        session: null,
        companionRows: [{ table: 'deliveries; DROP TABLE messages', values: {} }],
      }),
    ).rejects.toThrow(/Not a table or column name/);
    expect(await store.spool.getRaw('M-bad')).toBeNull();
    expect(await store.spool.getRaw('M0')).not.toBeNull();
  });

  it('stores one delivery per recipient with NOTIFY and ORCPT, and leases the due ones once', async () => {
    await enqueue(store.spool, 'M1', ['b@Remote.test', 'c@other.test', 'B@remote.test']);
    const shown = await store.queue.show('M1');
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
    expect(await store.queue.nextDueAt()).toBe(arrivedAt);

    expect(
      await store.queue.claimDue({ now: arrivedAt - 1, limit: 10, holder: 'w1', leaseMs: 1000 }),
    ).toEqual([]);
    const leased = await store.queue.claimDue({ now: arrivedAt, limit: 10, holder: 'w1', leaseMs: 1000 });
    expect(leased.map((delivery) => delivery.lease)).toEqual([
      { holder: 'w1', expiresAt: arrivedAt + 1000, fencing: 1 },
      { holder: 'w1', expiresAt: arrivedAt + 1000, fencing: 1 },
    ]);
    expect(await store.queue.claimDue({ now: arrivedAt, limit: 10, holder: 'w2', leaseMs: 1000 })).toEqual(
      [],
    );
    expect(await store.queue.countByStatus()).toMatchObject({ queued: 0, 'in-flight': 2 });
  });

  it('leases the oldest due first, at most `limit`, and lists by status and domain with keyset paging', async () => {
    await enqueue(store.spool, 'LATE', ['x@late.test'], arrivedAt + 50);
    await enqueue(store.spool, 'EARLY', ['y@early.test', 'z@early.test'], arrivedAt);
    const first = await store.queue.claimDue({ now: arrivedAt + 100, limit: 2, holder: 'w', leaseMs: 1000 });
    expect(first.map((delivery) => delivery.messageId)).toEqual(['EARLY', 'EARLY']);
    const queued = await store.queue.list({ status: 'queued', limit: 10 });
    expect(queued.map((delivery) => delivery.recipient)).toEqual(['x@late.test']);
    const early = await store.queue.list({ domain: 'EARLY.test', limit: 1 });
    expect(early.map((delivery) => delivery.recipient)).toEqual(['y@early.test']);
    const next = await store.queue.list({ domain: 'early.test', afterId: early[0]?.id ?? 0, limit: 10 });
    expect(next.map((delivery) => delivery.recipient)).toEqual(['z@early.test']);
    expect(await store.queue.get(first[0]?.id ?? 0)).toMatchObject({ state: { status: 'in-flight' } });
    expect(await store.queue.get(999_999)).toBeNull();
  });

  it('records an attempt with its outcome, and refuses a report with a stale fencing number', async () => {
    await enqueue(store.spool, 'M2', ['b@remote.test']);
    const [first] = await store.queue.claimDue({ now: arrivedAt, limit: 1, holder: 'w1', leaseMs: 1000 });
    if (first === undefined) throw new Error('nothing leased');
    // The lease expires (the worker crashed or stalled): the delivery returns to the queue once.
    expect(await store.queue.requeueExpired(arrivedAt + 999)).toBe(0);
    expect(await store.queue.requeueExpired(arrivedAt + 1000)).toBe(1);
    const [second] = await store.queue.claimDue({
      now: arrivedAt + 1000,
      limit: 1,
      holder: 'w2',
      leaseMs: 1000,
    });
    expect(second?.lease.fencing).toBe(2);

    const stale = await store.queue.recordAttempt({
      deliveryId: first.id,
      fencing: first.lease.fencing,
      now: arrivedAt + 1100,
      result: { kind: 'succeeded' },
      attempt: attempt('delivered'),
    });
    expect(stale).toMatchObject({ ok: false, reason: expect.stringMatching(/stale report/) });

    const deferred = await store.queue.recordAttempt({
      deliveryId: first.id,
      fencing: 2,
      now: arrivedAt + 1100,
      result: { kind: 'deferred', nextDueAt: arrivedAt + 600_000 },
      attempt: attempt('deferred'),
    });
    expect(deferred).toMatchObject({ ok: true, state: { status: 'queued', dueAt: arrivedAt + 600_000 } });
    const shown = await store.queue.show('M2');
    expect(shown?.attempts).toHaveLength(1); // the stale report wrote nothing
    expect(shown?.attempts[0]).toMatchObject({
      fencing: 2,
      mxHost: 'mx.remote.test',
      tls: true,
      rule: 'temporary',
    });
    expect(shown?.deliveries[0]?.lastReply?.code).toBe(450);
    expect(await store.queue.nextDueAt()).toBe(arrivedAt + 600_000);
  });

  it('keeps the new owner’s result: the expired owner’s late report is refused before and after it', async () => {
    await enqueue(store.spool, 'M4', ['b@remote.test', 'c@remote.test']);
    const old = await store.queue.claimDue({ now: arrivedAt, limit: 2, holder: 'old', leaseMs: 1000 });
    expect(await store.queue.requeueExpired(arrivedAt + 1000)).toBe(2);
    const current = await store.queue.claimDue({
      now: arrivedAt + 1000,
      limit: 2,
      holder: 'new',
      leaseMs: 1000,
    });
    const [oldB, oldC] = old;
    const [newB, newC] = current;
    if (oldB === undefined || oldC === undefined || newB === undefined || newC === undefined)
      throw new Error('not leased');
    // b: the new owner reports first; the old owner's later failure must not overwrite "delivered".
    expect(
      await store.queue.recordAttempt({
        deliveryId: newB.id,
        fencing: newB.lease.fencing,
        now: arrivedAt + 1200,
        result: { kind: 'succeeded' },
        attempt: attempt('delivered'),
      }),
    ).toMatchObject({ ok: true, state: { status: 'delivered' } });
    expect(
      await store.queue.recordAttempt({
        deliveryId: oldB.id,
        fencing: oldB.lease.fencing,
        now: arrivedAt + 1300,
        result: { kind: 'failed', cause: 'rejected' },
        attempt: attempt('failed'),
      }),
    ).toMatchObject({ ok: false });
    // c: the old owner reports first (late): refused, and the new owner's result is then recorded.
    expect(
      await store.queue.recordAttempt({
        deliveryId: oldC.id,
        fencing: oldC.lease.fencing,
        now: arrivedAt + 1200,
        result: { kind: 'succeeded' },
        attempt: attempt('delivered'),
      }),
    ).toMatchObject({ ok: false });
    expect((await store.queue.get(newC.id))?.state).toMatchObject({
      status: 'in-flight',
      lease: { holder: 'new' },
    });
    expect(
      await store.queue.recordAttempt({
        deliveryId: newC.id,
        fencing: newC.lease.fencing,
        now: arrivedAt + 1300,
        result: { kind: 'deferred', nextDueAt: arrivedAt + 60_000 },
        attempt: attempt('deferred'),
      }),
    ).toMatchObject({ ok: true, state: { status: 'queued' } });
    const shown = await store.queue.show('M4');
    expect(shown?.deliveries.map((delivery) => delivery.state.status)).toEqual(['delivered', 'queued']);
    expect(shown?.attempts.map((stored) => [stored.outcome, stored.fencing])).toEqual([
      ['delivered', 2],
      ['deferred', 2],
    ]);
  });

  it('takes operator actions through the state machine: hold, release, retry-now, bounce, delete', async () => {
    await enqueue(store.spool, 'M3', ['b@remote.test']);
    const [delivery] = (await store.queue.show('M3'))?.deliveries ?? [];
    if (delivery === undefined) throw new Error('no delivery');
    expect(await store.queue.act(delivery.id, 'release', arrivedAt)).toMatchObject({ ok: false });
    expect(await store.queue.act(delivery.id, 'hold', arrivedAt + 1)).toMatchObject({ ok: true });
    expect(await store.queue.claimDue({ now: arrivedAt + 2, limit: 5, holder: 'w', leaseMs: 10 })).toEqual(
      [],
    );
    expect(await store.queue.list({ status: 'held', limit: 10 })).toHaveLength(1);
    expect(await store.queue.act(delivery.id, 'retry-now', arrivedAt + 3)).toMatchObject({
      ok: true,
      state: { status: 'queued', dueAt: arrivedAt + 3 },
    });
    expect(await store.queue.act(delivery.id, 'bounce', arrivedAt + 4)).toMatchObject({
      ok: true,
      state: { status: 'failed', cause: 'bounced' },
    });
    expect(await store.queue.act(delivery.id, 'delete', arrivedAt + 5)).toMatchObject({ ok: true });
    expect((await store.queue.get(delivery.id))?.state.status).toBe('deleted');
    expect(await store.queue.act(999_999, 'hold', arrivedAt)).toMatchObject({
      ok: false,
      reason: 'no such delivery',
    });
  });

  it('lists failures whose report is owed until a DSN with its notice row is spooled', async () => {
    await enqueue(store.spool, 'M5', ['b@remote.test']);
    const [leased] = await store.queue.claimDue({ now: arrivedAt, limit: 1, holder: 'w', leaseMs: 1000 });
    if (leased === undefined) throw new Error('nothing leased');
    await store.queue.recordAttempt({
      deliveryId: leased.id,
      fencing: leased.lease.fencing,
      now: arrivedAt + 10,
      result: { kind: 'failed', cause: 'rejected' },
      attempt: attempt('failed'),
    });
    expect((await store.queue.unreportedFailures(10)).map((delivery) => delivery.id)).toEqual([leased.id]);
    expect((await store.queue.noticesOf([leased.id])).get(leased.id)).toBeUndefined();
    await store.spool.receive(new TextEncoder().encode(composeRaw({ subject: 'DSN' })), {
      id: 'DSN1',
      receivedAtMs: arrivedAt + 20,
      envelope: { from: '', to: ['alice@local.test'], mailParameters: {}, rcptParameters: [{}] },
      session: null,
      companionRows: [
        {
          table: 'delivery_notices',
          values: { delivery_id: leased.id, kind: 'failed', report_message_id: 'DSN1' },
        },
      ],
    });
    expect(await store.queue.unreportedFailures(10)).toEqual([]);
    expect([...((await store.queue.noticesOf([leased.id])).get(leased.id) ?? [])]).toEqual(['failed']);
  });
});
