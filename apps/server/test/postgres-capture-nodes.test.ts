import { type PostgresInstance, requireTool, startPostgres } from '@smtp/test-support';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp } from './support/app-harness.js';
import { runProcess } from './support/run-process.js';
import { openSseStream } from './support/sse-reader.js';

const python = requireTool('/usr/bin/python3', 'apt-get install -y python3');

let postgres: PostgresInstance;

beforeAll(async () => {
  postgres = await startPostgres();
}, 120_000);
afterAll(async () => {
  await postgres?.stop();
});

/** Sends one message with Python's smtplib, a real SMTP client. */
async function sendWithSmtplib(port: number, subject: string, body: string): Promise<void> {
  const script = `
import smtplib, sys
from email.message import EmailMessage
message = EmailMessage()
message['From'] = 'Ada <ada@sender.test>'
message['To'] = 'grace@receiver.test'
message['Subject'] = sys.argv[1]
message.set_content(sys.argv[2])
with smtplib.SMTP('127.0.0.1', ${port}, local_hostname='client.test') as smtp:
    smtp.send_message(message)
`;
  const sent = await runProcess(python, ['-c', script, subject, body], { timeoutMs: 60_000 });
  expect(sent.stderr).toBe('');
  expect(sent.code).toBe(0);
}

interface ListedMessage {
  readonly id: string;
  readonly subject: string;
  readonly isRead: boolean;
}

async function listMessages(
  baseUrl: string,
  query = '',
): Promise<{ messages: ListedMessage[]; total: number }> {
  const response = await fetch(`${baseUrl}/api/v1/messages${query}`);
  expect(response.status).toBe(200);
  return (await response.json()) as { messages: ListedMessage[]; total: number };
}

/** The LISTEN connections of the mailbox channel on this database. */
const mailboxListeners = `FROM pg_stat_activity
  WHERE datname = current_database() AND application_name = 'smtp-app listen smtp_mailbox'`;

async function withClient<Result>(
  url: string,
  work: (client: pg.Client) => Promise<Result>,
): Promise<Result> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Ends this database's LISTEN connections for the mailbox channel, as a failover or a DBA would. */
function killMailboxListeners(url: string): Promise<number> {
  return withClient(url, async (client) => {
    const { rows } = await client.query<{ ended: boolean }>(
      `SELECT pg_terminate_backend(pid) AS ended ${mailboxListeners}`,
    );
    return rows.filter((row) => row.ended).length;
  });
}

async function waitForListeners(url: string, count: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const listening = await withClient(url, async (client) => {
      const { rows } = await client.query<{ count: number }>(
        `SELECT count(*)::integer AS count ${mailboxListeners}`,
      );
      return rows[0]?.count ?? 0;
    });
    if (listening === count) return;
    if (Date.now() > deadline) throw new Error(`${listening} LISTEN connections after 60 s, not ${count}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * Two capture nodes (in-process app instances, each with its own listeners and data directory) on
 * one PostgreSQL: mail taken by one shows on the other's API, search, event stream and long poll,
 * and a delete or read mark on one shows on the other.
 */
describe('capture mode on PostgreSQL, two nodes', () => {
  it('shows a message sent to node A on node B (list, search, SSE, ?wait=) and deletes it everywhere from B', async () => {
    const url = await postgres.createDatabase(`capture_nodes_${process.pid}`);
    const [nodeA, nodeB] = await Promise.all([
      startTestApp({ storage: { url } }),
      startTestApp({ storage: { url } }),
    ]);
    const streamA = await openSseStream(`${nodeA.baseUrl}/api/v1/events`);
    const streamB = await openSseStream(`${nodeB.baseUrl}/api/v1/events`);
    try {
      await streamA.next((event) => event.event === 'ready');
      await streamB.next((event) => event.event === 'ready');
      // A long poll on B for a search nothing matches yet: answered when A takes the message.
      const longPoll = listMessages(
        nodeB.baseUrl,
        `?search=${encodeURIComponent('subject:aurora')}&wait=60s`,
      );
      await new Promise((resolve) => setTimeout(resolve, 300)); // the poll is waiting
      await sendWithSmtplib(nodeA.smtpPort, 'Aurora borealis tonight', 'Look north after ten.');

      const stored = await streamB.next((event) => event.event === 'message-stored', 60_000);
      const storedMessage = (stored.data as { message: ListedMessage & { isParsed: boolean } }).message;
      expect(storedMessage).toMatchObject({ subject: 'Aurora borealis tonight', isParsed: true });
      const { id } = storedMessage;
      const polled = await longPoll;
      expect(polled.messages.map((message) => message.id)).toEqual([id]);

      expect((await listMessages(nodeB.baseUrl)).messages.map((message) => message.id)).toEqual([id]);
      const searched = await listMessages(nodeB.baseUrl, `?search=${encodeURIComponent('north -south')}`);
      expect(searched.messages.map((message) => message.id)).toEqual([id]);
      expect(searched.total).toBe(1);
      const message = (await (await fetch(`${nodeB.baseUrl}/api/v1/messages/${id}`)).json()) as {
        text: string;
        envelope: { from: string };
      };
      expect(message.text).toContain('Look north after ten.');
      expect(message.envelope.from).toBe('ada@sender.test');

      // A read mark on A shows on B's stream and list.
      const marked = await fetch(`${nodeA.baseUrl}/api/v1/messages/${id}`, {
        method: 'PATCH',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ isRead: true }),
      });
      expect(marked.status).toBe(200);
      expect((await streamB.next((event) => event.event === 'message-updated')).data).toEqual({
        type: 'message-updated',
        id,
        isRead: true,
      });
      expect((await listMessages(nodeB.baseUrl)).messages[0]?.isRead).toBe(true);

      // Tagged on A: B's stream and search show it; a rename on B reaches A's stream.
      const tagged = await fetch(`${nodeA.baseUrl}/api/v1/messages/${id}/tags`, {
        method: 'PUT',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ tags: ['sky', 'Night watch'] }),
      });
      expect(tagged.status).toBe(200);
      expect((await streamB.next((event) => event.event === 'message-tagged')).data).toEqual({
        type: 'message-tagged',
        id,
        tags: ['Night watch', 'sky'],
      });
      const byTag = await listMessages(nodeB.baseUrl, `?search=${encodeURIComponent('tag:"night WATCH"')}`);
      expect(byTag.messages.map((message) => message.id)).toEqual([id]);
      const renamed = await fetch(`${nodeB.baseUrl}/api/v1/tags/sky`, {
        method: 'PUT',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: 'Stars' }),
      });
      expect(renamed.status).toBe(200);
      expect((await streamA.next((event) => event.event === 'tags-changed')).data).toEqual({
        type: 'tags-changed',
      });
      expect((await listMessages(nodeA.baseUrl, '?search=tag:stars')).messages.map((m) => m.id)).toEqual([
        id,
      ]);

      // Deleted on B: gone on A, and A's stream says so.
      expect((await fetch(`${nodeB.baseUrl}/api/v1/messages/${id}`, { method: 'DELETE' })).status).toBe(204);
      expect((await streamA.next((event) => event.event === 'message-deleted')).data).toEqual({
        type: 'message-deleted',
        ids: [id],
      });
      expect((await fetch(`${nodeA.baseUrl}/api/v1/messages/${id}`)).status).toBe(404);
      expect((await listMessages(nodeA.baseUrl)).total).toBe(0);
      // Each node announces its own events once: A's stream saw the store once, B's the delete once.
      expect(streamA.events.filter((event) => event.event === 'message-stored')).toHaveLength(1);
      expect(streamB.events.filter((event) => event.event === 'message-stored')).toHaveLength(1);
    } finally {
      streamA.close();
      streamB.close();
      await Promise.all([nodeA.stop(), nodeB.stop()]);
    }
  }, 180_000);

  it('listens again after its LISTEN connection is killed', async () => {
    const url = await postgres.createDatabase(`capture_relisten_${process.pid}`);
    const [nodeA, nodeB] = await Promise.all([
      startTestApp({ storage: { url } }),
      startTestApp({ storage: { url } }),
    ]);
    const streamB = await openSseStream(`${nodeB.baseUrl}/api/v1/events`);
    try {
      await streamB.next((event) => event.event === 'ready');
      expect(await killMailboxListeners(url)).toBe(2);
      // Sent while B may not be listening yet: live or caught up once it listens again, B shows it.
      await sendWithSmtplib(nodeA.smtpPort, 'Sent during the outage', 'missed or not');
      const missed = await streamB.next((event) => event.event === 'message-stored', 60_000);
      expect((missed.data as { message: ListedMessage }).message.subject).toBe('Sent during the outage');

      // Listening again (both LISTEN connections back): a later message reaches B's long poll as before.
      await waitForListeners(url, 2);
      const longPoll = listMessages(nodeB.baseUrl, `?search=${encodeURIComponent('subject:after')}&wait=60s`);
      await new Promise((resolve) => setTimeout(resolve, 300)); // the poll is waiting
      await sendWithSmtplib(nodeA.smtpPort, 'After the outage', 'heard');
      const polled = await longPoll;
      expect(polled.messages.map((message) => message.subject)).toEqual(['After the outage']);
    } finally {
      streamB.close();
      await Promise.all([nodeA.stop(), nodeB.stop()]);
    }
  }, 180_000);
});
