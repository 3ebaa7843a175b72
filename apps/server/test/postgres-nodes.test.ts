import { type PostgresInstance, startPostgres } from '@smtp/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp } from './support/app-harness.js';
import {
  nodeMtaSettings,
  type RemoteMx,
  receiptsBySubject,
  relay,
  startRemoteMx,
  statusCounts,
  waitUntil,
} from './support/shared-queue.js';

let postgres: PostgresInstance;
let databaseCount = 0;

beforeAll(async () => {
  postgres = await startPostgres();
}, 120_000);
afterAll(async () => {
  await postgres?.stop();
});

/**
 * Several app nodes (in-process instances, each with its own data directory and listeners) on one
 * PostgreSQL queue, delivering to one MX. Mail arrives at every node; any node may deliver it.
 */
describe.each([2, 3])('%i app nodes sharing one PostgreSQL queue', (nodeCount) => {
  const destinationConcurrency = 2;
  const messageCount = 24;

  it('delivers every message exactly once and never opens more sessions to the MX than the shared limit', async () => {
    databaseCount += 1;
    const url = await postgres.createDatabase(`nodes_${process.pid}_${databaseCount}`);
    // A fresh MX per test: its session count starts at zero.
    const remote: RemoteMx = await startRemoteMx(150);
    const nodes = await Promise.all(
      Array.from({ length: nodeCount }, (_, index) =>
        startTestApp({
          mode: 'mta',
          mta: {
            ...nodeMtaSettings(remote, `node${index + 1}.local.test`),
            listeners: [{ role: 'relay', host: '127.0.0.1', port: 0 }],
          },
          storage: { url, destinationConcurrency },
        }),
      ),
    );
    try {
      const subjects = Array.from({ length: messageCount }, (_, index) => `nodes${nodeCount}-m${index}`);
      // Every node accepts mail: each message goes to the next node in turn, several at once.
      await Promise.all(
        subjects.map((subject, index) => relay(nodes[index % nodeCount]?.smtpPort ?? 0, subject)),
      );
      await waitUntil('every delivery is delivered', async () => {
        const counts = await statusCounts(url);
        return counts.delivered === messageCount;
      });
      // Any node's queue API shows the whole shared queue, whichever node took or delivered the mail.
      const summary = (await (
        await fetch(`${nodes[nodeCount - 1]?.baseUrl}/api/v1/queue/summary`)
      ).json()) as {
        byStatus: Record<string, number>;
      };
      expect(summary.byStatus).toMatchObject({ delivered: messageCount, queued: 0, 'in-flight': 0 });
      const receipts = receiptsBySubject(remote.mx);
      expect([...receipts.keys()].sort()).toEqual([...subjects].sort());
      expect([...receipts.values()].every((count) => count === 1)).toBe(true);
      // Each node alone would open up to its window (2 at first, growing): the shared limit holds all.
      expect(remote.mx.sessions.peak).toBeGreaterThanOrEqual(1);
      expect(remote.mx.sessions.peak).toBeLessThanOrEqual(destinationConcurrency);
    } finally {
      await Promise.all(nodes.map((node) => node.stop()));
      await remote.stop();
    }
  }, 180_000);
});
