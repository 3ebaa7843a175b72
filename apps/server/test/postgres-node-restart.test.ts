import { type PostgresInstance, startPostgres } from '@smtp/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { temporaryDirectory } from './support/messages.js';
import {
  type NodeProcess,
  queryRows,
  type RemoteMx,
  receiptsBySubject,
  relay,
  startNodeProcess,
  startRemoteMx,
  statusCounts,
  waitUntil,
} from './support/shared-queue.js';

let postgres: PostgresInstance;
let remote: RemoteMx;

beforeAll(async () => {
  // The MX holds each DATA 1.5 s: the node killed meanwhile dies holding its leases.
  [postgres, remote] = await Promise.all([startPostgres(), startRemoteMx(1500)]);
}, 120_000);
afterAll(async () => {
  await Promise.all([postgres?.stop(), remote?.stop()]);
});

/**
 * Early requeue after a crash on PostgreSQL: the node's id is kept in its data directory and its
 * leases carry it, so the node restarted after kill -9 takes its dead run's leases back at start,
 * long before they expire (10 minutes here), while siblings sharing its host name keep theirs
 * (postgres-queue.test.ts checks that side).
 */
describe('a node restarted after kill -9 on a shared PostgreSQL queue', () => {
  it('requeues its own orphaned leases at start instead of waiting for them to expire', async () => {
    const directory = temporaryDirectory();
    const url = await postgres.createDatabase(`restart_${process.pid}`);
    const startNode = () =>
      startNodeProcess({
        url,
        remote,
        hostname: 'node1.local.test',
        directory: directory.path,
        leaseDuration: '10m',
        destinationConcurrency: 4,
      });
    let node: NodeProcess = await startNode();
    try {
      const subjects = Array.from({ length: 6 }, (_, index) => `restart-m${index}`);
      await Promise.all(subjects.map((subject) => relay(node.smtpPort, subject)));
      let held: { id: number }[] = [];
      await waitUntil(`${node.holder} holds a lease`, async () => {
        held = await queryRows<{ id: number }>(
          url,
          `SELECT id FROM deliveries WHERE status = 'in-flight' AND lease_holder = $1`,
          [node.holder],
        );
        return held.length > 0;
      });
      const deadHolder = node.holder;
      await node.kill();
      const orphaned = (
        await queryRows<{ id: number }>(
          url,
          `SELECT id FROM deliveries WHERE status = 'in-flight' AND lease_holder = $1`,
          [deadHolder],
        )
      ).map((row) => Number(row.id));
      expect(orphaned.length).toBeGreaterThan(0);

      node = await startNode();
      // The same node id, another process.
      expect(node.holder.replace(/:\d+$/, '')).toBe(deadHolder.replace(/:\d+$/, ''));
      expect(node.holder).not.toBe(deadHolder);
      // Far inside the 10-minute lease: only the early requeue can deliver them by then.
      await waitUntil(
        'every delivery is delivered',
        async () => (await statusCounts(url)).delivered === subjects.length,
        90_000,
      );
      const taken = await queryRows<{ fencing: number; lease_holder: string | null }>(
        url,
        'SELECT fencing, lease_holder FROM deliveries WHERE id = ANY($1::bigint[])',
        [orphaned],
      );
      expect(taken.every((row) => Number(row.fencing) >= 2)).toBe(true);
      const receipts = receiptsBySubject(remote.mx);
      expect(subjects.filter((subject) => !receipts.has(subject))).toEqual([]);
      // A message the MX had when the node died is sent again: the documented duplicate window.
      const duplicates = [...receipts.values()].reduce((sum, count) => sum + count - 1, 0);
      expect(duplicates).toBeLessThanOrEqual(orphaned.length);
      console.info(
        `restart after kill -9: ${orphaned.length} leases requeued at start, ${duplicates} delivered twice`,
      );
    } finally {
      await node.stop();
      directory.remove();
    }
  }, 240_000);
});
