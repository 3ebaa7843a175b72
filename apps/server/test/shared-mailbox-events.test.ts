import { type PostgresInstance, startPostgres } from '@smtp/test-support';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { MailboxEvent } from '../src/capture/mailbox-event.js';
import { InProcessEventBus } from '../src/events/in-process-event-bus.js';
import { parseMessage } from '../src/mime/parse-message.js';
import { PostgresCaptureStorage } from '../src/postgres/postgres-capture-storage.js';
import { composeRaw, newMessage } from './support/messages.js';

let postgres: PostgresInstance;
let databaseCount = 0;

beforeAll(async () => {
  postgres = await startPostgres();
}, 120_000);
afterAll(async () => {
  await postgres?.stop();
});

/** A node's capture storage on the shared database, and every mailbox event its inbox saw. */
async function openNode(url: string, reconnectMs: number) {
  const local = new InProcessEventBus<MailboxEvent>();
  const storage = await PostgresCaptureStorage.open({
    url,
    parse: parseMessage,
    localEvents: local,
    reconnectMs,
    onError: () => undefined,
  });
  const seen: MailboxEvent[] = [];
  storage.events.subscribe((event) => seen.push(event));
  return { local, storage, seen };
}

async function waitFor(description: string, condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within 30 s: ${description}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('mailbox events shared over PostgreSQL NOTIFY/LISTEN', () => {
  let url: string;
  let nodeA: Awaited<ReturnType<typeof openNode>>;
  let nodeB: Awaited<ReturnType<typeof openNode>>;

  beforeEach(async () => {
    databaseCount += 1;
    url = await postgres.createDatabase(`events_${process.pid}_${databaseCount}`);
    nodeA = await openNode(url, 1000);
    // B reopens a lost LISTEN connection only after 3 s: what A announces meanwhile, B misses.
    nodeB = await openNode(url, 3000);
  }, 60_000);
  afterEach(async () => {
    await nodeA.storage.close();
    await nodeB.storage.close();
  });

  it("shows each node's events on the other in order, and its own once", async () => {
    const message = await newMessage(composeRaw({ subject: 'Shared' }));
    await nodeA.storage.mailbox.insert(message);
    const summary = await nodeA.storage.mailbox.getSummary(message.id);
    if (summary === null) throw new Error('not stored');
    nodeA.local.publish({ type: 'message-stored', message: summary });
    nodeB.storage.events.publish({ type: 'message-updated', id: message.id, isRead: true });
    nodeA.local.publish({ type: 'messages-cleared' });
    await waitFor('B saw A’s events', () => nodeB.seen.length === 3);
    await waitFor('A saw B’s event', () => nodeA.seen.length === 3);
    // Its own event at once; A's in the order A published them.
    expect(nodeB.seen).toEqual([
      { type: 'message-updated', id: message.id, isRead: true },
      { type: 'message-stored', message: summary },
      { type: 'messages-cleared' },
    ]);
    expect(nodeA.seen.map((event) => event.type)).toEqual([
      'message-stored',
      'messages-cleared',
      'message-updated',
    ]);
  });

  it('carries a message too large for a NOTIFY by its id, and many deleted ids in several', async () => {
    const subject = `Long ${'subject '.repeat(1500)}`.trim();
    const message = await newMessage(composeRaw({ subject }));
    await nodeA.storage.mailbox.insert(message);
    const summary = await nodeA.storage.mailbox.getSummary(message.id);
    if (summary === null) throw new Error('not stored');
    nodeA.local.publish({ type: 'message-stored', message: summary });
    const ids = Array.from({ length: 400 }, (_, index) => `ID${String(index).padStart(24, '0')}`);
    nodeA.local.publish({ type: 'message-deleted', ids });
    await waitFor('B saw the store and every deleted id', () => {
      const deleted = nodeB.seen.flatMap((event) => (event.type === 'message-deleted' ? event.ids : []));
      return deleted.length === ids.length;
    });
    expect(nodeB.seen[0]).toEqual({ type: 'message-stored', message: summary });
    expect(
      nodeB.seen.slice(1).flatMap((event) => (event.type === 'message-deleted' ? event.ids : [])),
    ).toEqual(ids);
    expect(nodeB.seen.length).toBeGreaterThan(2);
  });

  it('listens again after its connection is killed and announces the messages stored meanwhile', async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query<{ ended: boolean }>(
      `SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity
       WHERE datname = current_database() AND application_name = 'smtp-app listen smtp_mailbox'`,
    );
    await client.end();
    expect(rows).toHaveLength(2);
    const message = await newMessage(composeRaw({ subject: 'While B was deaf' }));
    await nodeA.storage.mailbox.insert(message);
    const summary = await nodeA.storage.mailbox.getSummary(message.id);
    if (summary === null) throw new Error('not stored');
    nodeA.local.publish({ type: 'message-stored', message: summary });
    await waitFor('B caught up', () => nodeB.seen.length > 0);
    expect(nodeB.seen).toEqual([{ type: 'message-stored', message: summary }]);
  });
});
