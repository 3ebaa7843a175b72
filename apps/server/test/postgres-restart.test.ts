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
let remote: RemoteMx;

beforeAll(async () => {
  [postgres, remote] = await Promise.all([startPostgres(), startRemoteMx(0)]);
}, 120_000);
afterAll(async () => {
  await Promise.all([postgres?.stop(), remote?.stop()]);
});

/**
 * PostgreSQL goes away under two nodes and comes back: while it is down SMTP answers 451 4.3.0 (the
 * client keeps its mail); afterwards the nodes reconnect (pool and LISTEN) and deliver everything
 * that was acknowledged, before and after.
 */
describe('PostgreSQL stopped and started again under two nodes', () => {
  it('answers 451 4.3.0 while it is down, reconnects, and loses nothing acknowledged', async () => {
    const url = await postgres.createDatabase(`restart_${process.pid}`);
    const nodes = await Promise.all(
      [1, 2].map((index) =>
        startTestApp({
          mode: 'mta',
          mta: {
            ...nodeMtaSettings(remote, `node${index}.local.test`),
            listeners: [{ role: 'relay', host: '127.0.0.1', port: 0 }],
            // A result that could not be recorded during the outage comes back after this.
            leaseDuration: '3s',
          },
          storage: { url },
        }),
      ),
    );
    const port = (index: number) => nodes[index % nodes.length]?.smtpPort ?? 0;
    const acknowledged: string[] = [];
    const send = async (subject: string, index: number) => {
      await relay(port(index), subject);
      acknowledged.push(subject);
    };
    try {
      await Promise.all(Array.from({ length: 10 }, (_, index) => send(`before-${index}`, index)));
      await postgres.stopServer();
      const refused = await relay(port(0), 'during-0').catch((error: unknown) => error);
      expect(String(refused)).toMatch(/451.*4\.3\.0/);
      await postgres.startServer();
      await waitUntil('a node accepts mail again', () =>
        send(`after-${acknowledged.length}`, acknowledged.length).then(
          () => true,
          () => false,
        ),
      );
      await Promise.all(Array.from({ length: 10 }, (_, index) => send(`after-batch-${index}`, index)));
      let counts: Record<string, number> = {};
      await waitUntil('every acknowledged message is delivered', async () => {
        counts = await statusCounts(url).catch(() => counts);
        return counts.delivered === acknowledged.length;
      }).catch((error: Error) => {
        throw new Error(`${error.message}: ${acknowledged.length} acknowledged, ${JSON.stringify(counts)}`);
      });
      const receipts = receiptsBySubject(remote.mx);
      expect(acknowledged.filter((subject) => !receipts.has(subject))).toEqual([]);
      expect(receipts.has('during-0')).toBe(false);
    } finally {
      await Promise.all(nodes.map((node) => node.stop()));
    }
  }, 240_000);
});
