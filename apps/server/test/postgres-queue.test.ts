import { type PostgresInstance, startPostgres } from '@smtp/test-support';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { postgresMigrations } from '../src/postgres/postgres-schema.js';
import { PostgresStorage } from '../src/postgres/postgres-storage.js';
import type { LeasedDelivery } from '../src/queue/delivery-queue.js';
import { deliveryRows } from '../src/queue/router.js';
import { composeRaw } from './support/messages.js';

let postgres: PostgresInstance;
let databaseCount = 0;

beforeAll(async () => {
  postgres = await startPostgres();
}, 120_000);
afterAll(async () => {
  await postgres?.stop();
});

const arrivedAt = 1_700_000_000_000;

async function enqueue(storage: PostgresStorage, id: string, to: readonly string[]): Promise<void> {
  const envelope = { from: 'alice@local.test', to, mailParameters: {}, rcptParameters: to.map(() => ({})) };
  await storage.spool.receive(new TextEncoder().encode(composeRaw({ subject: id })), {
    id,
    receivedAtMs: arrivedAt,
    envelope,
    session: null,
    companionRows: deliveryRows({
      messageId: id,
      receivedAtMs: arrivedAt,
      envelope,
      postmasterDomain: 'local.test',
    }),
  });
}

const succeeded = (delivery: LeasedDelivery, now: number) => ({
  deliveryId: delivery.id,
  fencing: delivery.lease.fencing,
  now,
  result: { kind: 'succeeded' as const },
  attempt: null,
});

// What only a shared queue has to get right: several nodes (here: storages on their own pools,
// as separate processes would have) claiming, limiting and waking each other on one database.
describe('the delivery queue shared on PostgreSQL', () => {
  let url: string;
  let nodes: PostgresStorage[];

  async function openNode(destinationLimit = 100): Promise<PostgresStorage> {
    const node = await PostgresStorage.open({ url, destinationLimit, onError: () => undefined });
    nodes.push(node);
    return node;
  }

  beforeEach(async () => {
    databaseCount += 1;
    url = await postgres.createDatabase(`shared_${process.pid}_${databaseCount}`);
    nodes = [];
  }, 60_000);
  afterEach(async () => {
    await Promise.all(nodes.map((node) => node.close()));
  });

  it('migrates once when three nodes start at the same moment', async () => {
    await Promise.all([openNode(), openNode(), openNode()]);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT version FROM schema_migrations ORDER BY version');
      // Each migration once, whatever their number (other rooms append theirs).
      expect(rows).toEqual(postgresMigrations.map((_, index) => ({ version: index + 1 })));
    } finally {
      await client.end();
    }
  }, 60_000);

  it('gives nodes claiming at once disjoint batches that together cover the queue', async () => {
    const [first, second, third] = await Promise.all([openNode(), openNode(), openNode()]);
    if (first === undefined || second === undefined || third === undefined) throw new Error('no nodes');
    for (let index = 0; index < 30; index += 1)
      await enqueue(first, `M${index}`, [`r${index}@d${index % 5}.test`]);
    const claims = await Promise.all(
      [first, second, third].flatMap((node, index) =>
        [0, 1, 2].map(() =>
          node.queue.claimDue({ now: arrivedAt, limit: 4, holder: `node${index}`, leaseMs: 60_000 }),
        ),
      ),
    );
    const ids = claims.flat().map((delivery) => delivery.id);
    expect(new Set(ids).size).toBe(ids.length); // nothing leased twice
    const rest = await first.queue.claimDue({ now: arrivedAt, limit: 100, holder: 'rest', leaseMs: 60_000 });
    expect(ids.length + rest.length).toBe(30);
  }, 60_000);

  it('holds the per-destination limit across nodes, counting live leases only', async () => {
    const [first, second] = await Promise.all([openNode(2), openNode(2)]);
    if (first === undefined || second === undefined) throw new Error('no nodes');
    for (let index = 0; index < 6; index += 1) await enqueue(first, `L${index}`, [`r${index}@busy.test`]);
    await enqueue(first, 'OTHER', ['r@calm.test']);
    const [fromFirst, fromSecond] = await Promise.all([
      first.queue.claimDue({ now: arrivedAt, limit: 10, holder: 'first', leaseMs: 1000 }),
      second.queue.claimDue({ now: arrivedAt, limit: 10, holder: 'second', leaseMs: 1000 }),
    ]);
    const leased = [...fromFirst, ...fromSecond];
    expect(leased.filter((delivery) => delivery.domain === 'busy.test')).toHaveLength(2);
    expect(leased.filter((delivery) => delivery.domain === 'calm.test')).toHaveLength(1);
    // Saturated: nothing more for busy.test, and its queued deliveries are not "due" meanwhile; the
    // next wake-up is the earliest lease expiry (or the NOTIFY of a freed slot).
    expect(
      await second.queue.claimDue({ now: arrivedAt + 1, limit: 10, holder: 'second', leaseMs: 1000 }),
    ).toEqual([]);
    expect(await second.queue.nextDueAt()).toBe(arrivedAt + 1000);
    // A finished lease frees one slot, for whichever node claims first.
    const busy = leased.find((delivery) => delivery.domain === 'busy.test') as LeasedDelivery;
    expect(await first.queue.recordAttempt(succeeded(busy, arrivedAt + 2))).toMatchObject({ ok: true });
    const refill = await second.queue.claimDue({
      now: arrivedAt + 3,
      limit: 10,
      holder: 'second',
      leaseMs: 1000,
    });
    expect(refill.map((delivery) => delivery.domain)).toEqual(['busy.test']);
    // Expired leases (a crashed node's) do not count: at +1002 only the refill's lease is live, so
    // busy.test has one slot; calm.test's expired lease is taken over, fenced.
    const takeover = await second.queue.claimDue({
      now: arrivedAt + 1002,
      limit: 10,
      holder: 'second',
      leaseMs: 1000,
    });
    expect(takeover.filter((delivery) => delivery.domain === 'busy.test')).toHaveLength(1);
    expect(takeover.find((delivery) => delivery.domain === 'calm.test')?.lease.fencing).toBe(2);
  }, 60_000);

  it('lets any node take over an expired lease directly, and fences the first owner out', async () => {
    const [first, second] = await Promise.all([openNode(), openNode()]);
    if (first === undefined || second === undefined) throw new Error('no nodes');
    await enqueue(first, 'T1', ['b@remote.test']);
    const [old] = await first.queue.claimDue({ now: arrivedAt, limit: 1, holder: 'first', leaseMs: 1000 });
    if (old === undefined) throw new Error('nothing leased');
    expect(await second.queue.nextDueAt()).toBe(arrivedAt + 1000);
    expect(
      await second.queue.claimDue({ now: arrivedAt + 999, limit: 1, holder: 'second', leaseMs: 1000 }),
    ).toEqual([]);
    const [taken] = await second.queue.claimDue({
      now: arrivedAt + 1000,
      limit: 1,
      holder: 'second',
      leaseMs: 1000,
    });
    expect(taken).toMatchObject({ id: old.id, lease: { holder: 'second', fencing: 2 } });
    expect(await first.queue.recordAttempt(succeeded(old, arrivedAt + 1001))).toMatchObject({ ok: false });
    expect(
      await second.queue.recordAttempt(succeeded(taken as LeasedDelivery, arrivedAt + 1002)),
    ).toMatchObject({
      ok: true,
      state: { status: 'delivered', fencing: 2 },
    });
  }, 60_000);

  it('requeues at start only the leases of this node’s dead run, not a sibling’s under the same host name', async () => {
    const [first, second] = await Promise.all([openNode(), openNode()]);
    if (first === undefined || second === undefined) throw new Error('no nodes');
    await enqueue(first, 'A1', ['a1@remote.test', 'a2@remote.test']);
    await enqueue(first, 'B1', ['b1@other.test']);
    const lease = { now: arrivedAt, limit: 2, leaseMs: 600_000 };
    // Node a's earlier run (pid 100, killed) and the live sibling b, both serving mx.test.
    const dead = await first.queue.claimDue({ ...lease, holder: 'mx.test/a-1:100' });
    const sibling = await second.queue.claimDue({ ...lease, holder: 'mx.test/b-2:200' });
    expect(dead).toHaveLength(2);
    expect(sibling).toHaveLength(1);
    const requeued = await first.queue.requeueAbandoned({
      holderPrefix: 'mx.test/a-1:',
      currentHolder: 'mx.test/a-1:300',
      now: arrivedAt + 5000,
    });
    expect(requeued).toBe(2);
    // Long before the 10-minute lease expires, the restarted node leases them again (fenced).
    const again = await first.queue.claimDue({ ...lease, now: arrivedAt + 5000, holder: 'mx.test/a-1:300' });
    expect(again.map((delivery) => delivery.id).sort()).toEqual(dead.map((delivery) => delivery.id).sort());
    expect(again.every((delivery) => delivery.lease.fencing === 2)).toBe(true);
    const [kept] = sibling;
    expect(await second.queue.get(kept?.id ?? 0)).toMatchObject({
      state: { status: 'in-flight', lease: { holder: 'mx.test/b-2:200' } },
    });
  }, 60_000);

  it('spaces the starts at a destination by storage.destinationRate over all nodes, and wakes at the next one', async () => {
    const open = () =>
      PostgresStorage.open({ url, destinationLimit: 100, destinationRate: 60, onError: () => undefined });
    const [first, second] = await Promise.all([open(), open()]);
    nodes.push(first, second);
    await enqueue(first, 'R1', ['r1@remote.test', 'r2@remote.test', 'r3@remote.test']);
    await enqueue(first, 'O1', ['o1@other.test']);
    const lease = { limit: 10, leaseMs: 600_000 };
    // One per destination per second: remote.test gets one start, other.test its own.
    const firstClaim = await first.queue.claimDue({ ...lease, now: arrivedAt, holder: 'first' });
    expect(firstClaim.map((delivery) => delivery.domain).sort()).toEqual(['other.test', 'remote.test']);
    expect(await second.queue.claimDue({ ...lease, now: arrivedAt + 999, holder: 'second' })).toEqual([]);
    expect(await second.queue.nextDueAt()).toBe(arrivedAt + 1000);
    const secondClaim = await second.queue.claimDue({ ...lease, now: arrivedAt + 1000, holder: 'second' });
    expect(secondClaim.map((delivery) => delivery.domain)).toEqual(['remote.test']);
    expect(await first.queue.nextDueAt()).toBe(arrivedAt + 2000);
  }, 60_000);

  it('wakes the other nodes through LISTEN/NOTIFY when mail is queued or a delivery is given back', async () => {
    const [first, second] = await Promise.all([openNode(), openNode()]);
    if (first === undefined || second === undefined) throw new Error('no nodes');
    let wakes = 0;
    let onWake: () => void = () => undefined;
    second.notifications.subscribe(() => {
      wakes += 1;
      onWake();
    });
    const woken = () =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no notification')), 10_000);
        onWake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    let wake = woken();
    await enqueue(first, 'N1', ['b@remote.test']);
    await wake;
    expect(wakes).toBe(1);
    const [leased] = await first.queue.claimDue({
      now: arrivedAt,
      limit: 1,
      holder: 'first',
      leaseMs: 60_000,
    });
    if (leased === undefined) throw new Error('nothing leased');
    wake = woken();
    await first.queue.recordAttempt({
      deliveryId: leased.id,
      fencing: leased.lease.fencing,
      now: arrivedAt + 5,
      result: { kind: 'deferred', nextDueAt: arrivedAt + 5 },
      attempt: null,
    });
    await wake;
    expect(wakes).toBe(2);
  }, 60_000);
});
