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
  // The MX holds each DATA 400 ms: a node killed while it waits has sessions mid-delivery.
  [postgres, remote] = await Promise.all([startPostgres(), startRemoteMx(400)]);
}, 120_000);
afterAll(async () => {
  await Promise.all([postgres?.stop(), remote?.stop()]);
});

/**
 * kill -9 of a node mid-delivery, round after round: two nodes (the built app, each its own
 * process) share the PostgreSQL queue; each round queues mail at one node and kills it while it
 * holds leases, then starts a fresh node in its place. The killed node's leases are taken over
 * once they expire; nothing acknowledged is lost; a message is delivered twice only when the
 * killed node's session had already handed it to the MX (the documented window), and every such
 * duplicate is one of the killed node's leases.
 */
describe('nodes killed with SIGKILL while delivering', () => {
  const rounds = 5;
  const messagesPerRound = 8;

  it('takes over their leases after expiry, loses nothing, and delivers twice only within the window', async () => {
    const directory = temporaryDirectory();
    const url = await postgres.createDatabase(`kill_${process.pid}`);
    let nodeCount = 0;
    const startNode = () => {
      nodeCount += 1;
      return startNodeProcess({
        url,
        remote,
        hostname: `node${nodeCount}.local.test`,
        directory: directory.path,
        leaseDuration: '3s',
        destinationConcurrency: 4,
      });
    };
    const nodes: NodeProcess[] = [await startNode(), await startNode()];
    const subjects: string[] = [];
    /** The deliveries each killed node held in flight when it died. */
    const orphaned: number[] = [];
    try {
      for (let round = 0; round < rounds; round += 1) {
        const victim = nodes.shift() as NodeProcess;
        let held: { id: number }[] = [];
        // The surviving nodes claim too (SKIP LOCKED): when they drained the victim's batch before
        // it leased any, it gets another, up to three.
        for (let batch = 0; ; batch += 1) {
          const subjectsOfBatch = Array.from(
            { length: messagesPerRound },
            (_, index) => `kill-r${round}-b${batch}-m${index}`,
          );
          subjects.push(...subjectsOfBatch);
          // Acknowledged (250) by the victim: from here on the mail must arrive.
          await Promise.all(subjectsOfBatch.map((subject) => relay(victim.smtpPort, subject)));
          try {
            await waitUntil(
              `${victim.holder} holds a lease`,
              async () => {
                held = await queryRows<{ id: number }>(
                  url,
                  `SELECT id FROM deliveries WHERE status = 'in-flight' AND lease_holder = $1`,
                  [victim.holder],
                );
                return held.length > 0;
              },
              15_000,
            );
            break;
          } catch (error) {
            if (batch === 2) throw error;
          }
        }
        await victim.kill();
        const stillHeld = await queryRows<{ id: number }>(
          url,
          `SELECT id FROM deliveries WHERE status = 'in-flight' AND lease_holder = $1`,
          [victim.holder],
        );
        orphaned.push(...stillHeld.map((row) => Number(row.id)));
        nodes.push(await startNode());
      }
      await waitUntil('every delivery is delivered', async () => {
        const counts = await statusCounts(url);
        return counts.delivered === subjects.length;
      });

      const receipts = receiptsBySubject(remote.mx);
      // Nothing lost: every acknowledged message reached the MX.
      expect(subjects.filter((subject) => !receipts.has(subject))).toEqual([]);
      const duplicates = [...receipts.values()].reduce((sum, count) => sum + count - 1, 0);
      // The killed nodes' leases were taken over, fenced: each was leased again.
      const taken = await queryRows<{ id: number; fencing: number; status: string }>(
        url,
        'SELECT id, fencing, status FROM deliveries WHERE id = ANY($1::bigint[])',
        [orphaned],
      );
      expect(orphaned.length).toBeGreaterThanOrEqual(rounds);
      expect(taken.every((row) => Number(row.fencing) >= 2 && row.status === 'delivered')).toBe(true);
      // Duplicates only in the window: each is a delivery a killed node had in flight.
      expect(duplicates).toBeLessThanOrEqual(orphaned.length);
      console.info(
        `kill -9 × ${rounds}: ${subjects.length} messages, ${orphaned.length} leases orphaned and taken over, ` +
          `${duplicates} delivered twice (the MX had the message when the node died)`,
      );
    } finally {
      await Promise.all(nodes.map((node) => node.stop()));
      directory.remove();
    }
  }, 300_000);
});
