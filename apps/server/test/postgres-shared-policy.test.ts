import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClient, type SendResult } from '@smtp/client';
import { type PostgresInstance, requireTool, startPostgres } from '@smtp/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inboundMessageSchema, inboundPageSchema } from '../src/http/schemas/inbound-schemas.js';
import { suppressionPageSchema } from '../src/http/schemas/suppression-schemas.js';
import { type InboundRecord, inboundRecordRow } from '../src/inbound/inbound-log.js';
import { PostgresStorage } from '../src/postgres/postgres-storage.js';
import { findBySubject, rawOf, startTestApp } from './support/app-harness.js';
import { temporaryDirectory } from './support/messages.js';
import { runProcess } from './support/run-process.js';
import {
  nodeMtaSettings,
  type RemoteMx,
  receiptsBySubject,
  relay,
  startRemoteMx,
  statusCounts,
  waitUntil,
} from './support/shared-queue.js';

/**
 * What one node kept for itself on SQLite is shared on PostgreSQL: the suppression list, the daily
 * message counts, the per-destination rate and the mx listeners' greylisting. Two in-process nodes on one database, aiosmtpd as
 * the remote MX (550 5.1.1 to perm-*), real SMTP clients.
 */
const python = requireTool('/usr/bin/python3', 'apt-get install -y python3');

let postgres: PostgresInstance;
let databaseCount = 0;

beforeAll(async () => {
  postgres = await startPostgres();
}, 120_000);
afterAll(async () => {
  await postgres?.stop();
});

async function freshDatabase(): Promise<string> {
  databaseCount += 1;
  return postgres.createDatabase(`policy_${process.pid}_${databaseCount}`);
}

type TestNode = Awaited<ReturnType<typeof startTestApp>>;

async function startNodes(
  count: number,
  url: string,
  remote: RemoteMx,
  settings: {
    mta?: Record<string, unknown>;
    storage?: Record<string, unknown>;
    inbound?: Record<string, unknown>;
  } = {},
): Promise<TestNode[]> {
  return Promise.all(
    Array.from({ length: count }, (_, index) =>
      startTestApp({
        mode: 'mta',
        mta: {
          ...nodeMtaSettings(remote, `node${index + 1}.local.test`),
          listeners: [{ role: 'relay', host: '127.0.0.1', port: 0 }],
          ...settings.mta,
        },
        storage: { url, ...settings.storage },
        ...(settings.inbound === undefined ? {} : { inbound: settings.inbound }),
      }),
    ),
  );
}

/** Relays one message to `to` through a node's relay listener; refused recipients are in the result. */
async function relayTo(node: TestNode, to: readonly string[]): Promise<SendResult> {
  const client = createClient({ host: '127.0.0.1', port: node.smtpPort, starttls: 'never', pool: false });
  try {
    return await client.send({
      from: 'app@sender.test',
      to: [...to],
      message: 'Subject: policy\r\n\r\nx\r\n',
      dsn: { notify: 'NEVER' },
    });
  } finally {
    await client.close();
  }
}

describe('the suppression list on PostgreSQL', () => {
  it('keeps the first entry per address, pages newest first along (created, address), and removes', async () => {
    const storage = await PostgresStorage.open({
      url: await freshDatabase(),
      destinationLimit: 20,
      onError: () => undefined,
    });
    try {
      const list = storage.suppressions;
      const entry = (address: string, createdAtMs: number) => ({
        address,
        reason: '550 5.1.1 No such user',
        createdAtMs,
        messageId: 'M1',
        deliveryId: 7,
      });
      await list.add(entry('a@Remote.TEST', 1000));
      await list.add({ ...entry('a@remote.test', 5000), reason: 'later' });
      await list.add(entry('b@remote.test', 2000));
      await list.add(entry('c@remote.test', 2000));
      await list.add({ ...entry('op@remote.test', 3000), messageId: null, deliveryId: null });
      expect(await list.find('A@remote.test')).toBeNull(); // local parts keep their case
      expect(await list.find('a@REMOTE.test')).toEqual(entry('a@remote.test', 1000));
      const first = await list.list({ limit: 2 });
      expect(first.map((row) => row.address)).toEqual(['op@remote.test', 'c@remote.test']);
      expect(first[0]).toMatchObject({ messageId: null, deliveryId: null });
      const last = first.at(-1);
      const next = await list.list({
        limit: 10,
        before: { createdAtMs: last?.createdAtMs ?? 0, address: last?.address ?? '' },
      });
      expect(next.map((row) => row.address)).toEqual(['b@remote.test', 'a@remote.test']);
      expect(await list.remove('b@remote.test')).toBe(true);
      expect(await list.remove('b@remote.test')).toBe(false);
    } finally {
      await storage.close();
    }
  }, 60_000);
});

describe('the daily message counts on PostgreSQL', () => {
  it('counts per user and day over two stores, and a new day prunes all but yesterday', async () => {
    const url = await freshDatabase();
    const open = () => PostgresStorage.open({ url, destinationLimit: 20, onError: () => undefined });
    const [first, second] = await Promise.all([open(), open()]);
    try {
      await Promise.all([
        first.dailyMessages.increment('carol', '2026-12-01'),
        second.dailyMessages.increment('carol', '2026-12-04'),
        first.dailyMessages.increment('carol', '2026-12-04'),
        second.dailyMessages.increment('dave', '2026-12-04'),
      ]);
      expect(await first.dailyMessages.count('carol', '2026-12-04')).toBe(2);
      expect(await second.dailyMessages.count('dave', '2026-12-04')).toBe(1);
      await first.dailyMessages.increment('carol', '2026-12-05');
      expect(await second.dailyMessages.count('carol', '2026-12-01')).toBe(0);
      expect(await second.dailyMessages.count('carol', '2026-12-04')).toBe(2);
      expect(await second.dailyMessages.count('carol', '2026-12-05')).toBe(1);
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  }, 60_000);
});

describe('two nodes on one PostgreSQL share their policy state', () => {
  it('a hard bounce delivered by node A makes node B refuse the address at RCPT with 550 5.1.1; the API of either node lists and removes it', async () => {
    const url = await freshDatabase();
    const remote = await startRemoteMx(0);
    const [nodeA, nodeB] = await startNodes(2, url, remote);
    if (nodeA === undefined || nodeB === undefined) throw new Error('two nodes expected');
    try {
      // Whichever node delivers it, the failure lands in the one shared list.
      const first = await relayTo(nodeA, ['perm-gone@remote.test']);
      expect(first.reply.code).toBe(250);
      await waitUntil('the delivery failed', async () => (await statusCounts(url)).failed === 1);

      const second = await relayTo(nodeB, ['perm-gone@Remote.TEST', 'bob@remote.test']);
      expect(second.accepted.map(({ to }) => to)).toEqual(['bob@remote.test']);
      const refusal = second.rejected[0]?.reply;
      expect(refusal?.code).toBe(550);
      expect(refusal?.enhanced).toBe('5.1.1');
      expect(refusal?.lines.join(' ')).toMatch(/recipient is suppressed after a permanent failure/);

      const listed = suppressionPageSchema.parse(
        await (await fetch(`${nodeB.baseUrl}/api/v1/suppressions`)).json(),
      ).suppressions;
      expect(listed).toMatchObject([{ address: 'perm-gone@remote.test', reason: '550 5.1.1 No such user' }]);

      // Removed through node B, node A accepts the address again.
      const removed = await fetch(`${nodeB.baseUrl}/api/v1/suppressions/perm-gone@remote.test`, {
        method: 'DELETE',
      });
      expect(removed.status).toBe(200);
      const third = await relayTo(nodeA, ['perm-gone@remote.test']);
      expect(third.rejected).toEqual([]);
      // An operator's entry added on node A is refused by node B.
      const added = await fetch(`${nodeA.baseUrl}/api/v1/suppressions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ address: 'blocked@remote.test' }),
      });
      expect(added.status).toBe(201);
      const fourth = await relayTo(nodeB, ['blocked@remote.test', 'bob@remote.test']);
      expect(fourth.rejected.map(({ to }) => to)).toEqual(['blocked@remote.test']);
    } finally {
      await Promise.all([nodeA.stop(), nodeB.stop()]);
      await remote.stop();
    }
  }, 180_000);

  it('a user with a daily limit of 3 gets 451 4.7.1 on the fourth message, whichever node it reaches', async () => {
    const url = await freshDatabase();
    const remote = await startRemoteMx(0);
    const nodes = await startNodes(2, url, remote, {
      mta: {
        users: [
          {
            username: 'carol',
            password: 'carol-secret',
            addresses: ['carol@sender.test'],
            dailyMessageLimit: 3,
          },
        ],
        listeners: [{ role: 'submission', host: '127.0.0.1', port: 0 }],
      },
    });
    const submit = async (node: TestNode | undefined) => {
      const port = node?.app.mtaListeners[0]?.address.port ?? 0;
      const client = createClient({
        host: '127.0.0.1',
        port,
        starttls: 'required',
        tls: { rejectUnauthorized: false },
        auth: { username: 'carol', password: 'carol-secret' },
        pool: false,
      });
      try {
        return await client.send({
          from: 'carol@sender.test',
          to: ['someone@remote.test'],
          message: 'Subject: daily\r\n\r\nx\r\n',
          dsn: { notify: 'NEVER' },
        });
      } catch (error) {
        return error as Error & { reply?: { code: number; enhanced?: string } };
      } finally {
        await client.close();
      }
    };
    try {
      // Two through A and one through B: on per-node counters B would still allow two more.
      for (const node of [nodes[0], nodes[1], nodes[0]]) {
        const sent = await submit(node);
        expect(sent).toMatchObject({ reply: { code: 250 } });
      }
      for (const node of [nodes[1], nodes[0]]) {
        const refused = await submit(node);
        expect(refused).toBeInstanceOf(Error);
        expect(refused).toMatchObject({ reply: { code: 451, enhanced: '4.7.1' } });
      }
      await waitUntil('the three accepted messages are delivered', async () => {
        return (await statusCounts(url)).delivered === 3;
      });
      expect(remote.mx.messages).toHaveLength(3);
    } finally {
      await Promise.all(nodes.map((node) => node.stop()));
      await remote.stop();
    }
  }, 180_000);

  it('storage.destinationRate holds over both nodes: deliveries to one destination start at most that often', async () => {
    const url = await freshDatabase();
    const remote = await startRemoteMx(0);
    const perMinute = 120; // one start every 500 ms
    const intervalMs = 60_000 / perMinute;
    const nodes = await startNodes(2, url, remote, { storage: { destinationRate: perMinute } });
    const messageCount = 12;
    try {
      const subjects = Array.from({ length: messageCount }, (_, index) => `rate-m${index}`);
      // All queued at once on both nodes: without the shared rate they would arrive within a second.
      await Promise.all(subjects.map((subject, index) => relay(nodes[index % 2]?.smtpPort ?? 0, subject)));
      await waitUntil('every delivery is delivered', async () => {
        return (await statusCounts(url)).delivered === messageCount;
      });
      const receipts = receiptsBySubject(remote.mx);
      expect([...receipts.keys()].sort()).toEqual([...subjects].sort());
      const arrivals = remote.mx.messages.map((message) => message.arrived_at_ms).sort((a, b) => a - b);
      // Any five consecutive arrivals span four intervals; a session's own latency varies, so a
      // fifth of an interval of slack each (with the rate broken the span is a few milliseconds).
      const window = 4;
      const spans = arrivals.slice(window).map((arrival, index) => arrival - (arrivals[index] ?? 0));
      const tightest = Math.min(...spans);
      expect(tightest).toBeGreaterThanOrEqual(window * intervalMs * 0.8);
      const total = (arrivals.at(-1) ?? 0) - (arrivals[0] ?? 0);
      expect(total).toBeGreaterThanOrEqual((messageCount - 1) * intervalMs * 0.8);
    } finally {
      await Promise.all(nodes.map((node) => node.stop()));
      await remote.stop();
    }
  }, 180_000);
});

describe('the inbound log on PostgreSQL', () => {
  it('is written with its message, kept for every store, and pages newest first by (received, id)', async () => {
    const url = await freshDatabase();
    const open = () => PostgresStorage.open({ url, destinationLimit: 20, onError: () => undefined });
    const [first, second] = await Promise.all([open(), open()]);
    const record = (messageId: string, receivedAtMs: number): InboundRecord => ({
      messageId,
      receivedAtMs,
      client: { address: '192.0.2.7', helo: 'mail.origin.test', tls: null },
      sender: 'bob@origin.test',
      recipients: [{ recipient: 'alice@example.test', targets: [] }],
      checks: [{ check: 'greylist', result: 'pass' }],
    });
    // Byte-wise id order, as on SQLite: upper case before lower case whatever the database's locale.
    const records = [record('Ma', 2000), record('mb', 2000), record('MC', 2000), record('md', 1000)];
    try {
      for (const each of records) {
        await first.spool.receive(Buffer.from('Subject: in\r\n\r\nx\r\n'), {
          id: each.messageId,
          receivedAtMs: each.receivedAtMs,
          envelope: {
            from: each.sender,
            to: ['alice@example.test'],
            mailParameters: {},
            rcptParameters: [{}],
          },
          session: null,
          companionRows: [inboundRecordRow(each)],
        });
      }
      expect(await second.inbound.get('mb')).toEqual(records[1]);
      expect(await second.inbound.get('nope')).toBeNull();
      const firstPage = await second.inbound.list({ limit: 2 });
      expect(firstPage.map((each) => each.messageId)).toEqual(['mb', 'Ma']);
      const next = await second.inbound.list({ limit: 10, before: { receivedAtMs: 2000, messageId: 'Ma' } });
      expect(next.map((each) => each.messageId)).toEqual(['MC', 'md']);
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  }, 60_000);
});

describe('greylisting on PostgreSQL', () => {
  it('keeps triplets and clients for every store on the database; saves either or both; prunes by last seen', async () => {
    const url = await freshDatabase();
    const open = () => PostgresStorage.open({ url, destinationLimit: 20, onError: () => undefined });
    const [first, second] = await Promise.all([open(), open()]);
    const key = { client: '192.0.2.0/24', sender: 'alice@sender.test', recipient: 'bob@mx.test' };
    try {
      expect(await second.greylist.findTriplet(key)).toBeNull();
      await first.greylist.save({
        key,
        triplet: { firstSeenMs: 1000, lastSeenMs: 1000, passCount: 0 },
        client: null,
      });
      expect(await second.greylist.findTriplet(key)).toEqual({
        firstSeenMs: 1000,
        lastSeenMs: 1000,
        passCount: 0,
      });
      expect(await second.greylist.findClient(key.client)).toBeNull();
      // Both records at once (the retry that passes), then the client alone (an auto-whitelisted one).
      await second.greylist.save({
        key,
        triplet: { firstSeenMs: 1000, lastSeenMs: 400_000, passCount: 1 },
        client: { passCount: 1, lastSeenMs: 400_000 },
      });
      await first.greylist.save({ key, triplet: null, client: { passCount: 2, lastSeenMs: 500_000 } });
      expect(await first.greylist.findTriplet(key)).toEqual({
        firstSeenMs: 1000,
        lastSeenMs: 400_000,
        passCount: 1,
      });
      expect(await first.greylist.findClient(key.client)).toEqual({ passCount: 2, lastSeenMs: 500_000 });
      await first.greylist.save({
        key: { ...key, recipient: 'old@mx.test' },
        triplet: { firstSeenMs: 5, lastSeenMs: 5, passCount: 0 },
        client: null,
      });
      // Pruning forgets what was last seen before the cut-off, and only that.
      expect(await second.greylist.prune(1000)).toBe(1);
      expect(await first.greylist.findTriplet({ ...key, recipient: 'old@mx.test' })).toBeNull();
      expect(await second.greylist.prune(500_001)).toBe(2);
      expect(await first.greylist.findTriplet(key)).toBeNull();
      expect(await first.greylist.findClient(key.client)).toBeNull();
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  }, 60_000);

  it('a sender greylisted by node A retries on node B after the delay and gets through; either node lists what the mx received', async () => {
    const url = await freshDatabase();
    const remote = await startRemoteMx(0);
    const maildirs = temporaryDirectory();
    const nodes = await startNodes(2, url, remote, {
      mta: {
        localDomains: ['example.test'],
        // Not the client's address: relay networks skip the inbound checks.
        relayNetworks: ['127.0.0.9/32'],
        listeners: [{ role: 'mx', host: '127.0.0.1', port: 0 }],
        inboundChecks: {
          spf: { enabled: false },
          dkim: { enabled: false },
          dmarc: { enabled: false },
          arc: { enabled: false },
          greylisting: { enabled: true, delay: '1s' },
        },
      },
      inbound: {
        mailboxes: ['alice@example.test'],
        delivery: { transport: 'maildir', directory: maildirs.path },
      },
    });
    const mxPortOf = (node: TestNode) => {
      const listener = node.app.mtaListeners.find((candidate) => candidate.role === 'mx');
      if (listener === undefined) throw new Error('no mx listener');
      return listener.address.port;
    };
    // One transaction through smtplib, as another MTA would send it: the RCPT reply, and DATA's if any.
    const send = async (node: TestNode, recipient: string) => {
      const script = `
import smtplib, json
with smtplib.SMTP('127.0.0.1', ${mxPortOf(node)}, local_hostname='mail.origin.test') as smtp:
    smtp.ehlo()
    smtp.mail('bob@origin.test')
    code, text = smtp.rcpt('${recipient}')
    data = smtp.data(b'Subject: greylisted\\r\\n\\r\\nHi\\r\\n')[0] if code == 250 else None
    print(json.dumps([code, text.decode(), data]))
`;
      const result = await runProcess(python, ['-c', script]);
      expect(result.stderr).toBe('');
      return JSON.parse(result.stdout) as [number, string, number | null];
    };
    const [nodeA, nodeB] = nodes;
    if (nodeA === undefined || nodeB === undefined) throw new Error('two nodes expected');
    try {
      const [firstCode, firstText] = await send(nodeA, 'alice@example.test');
      expect(firstCode).toBe(451);
      expect(firstText).toMatch(/^4\.7\.1 Greylisted/);
      await new Promise((resolve) => setTimeout(resolve, 1200));
      // After the delay the retry passes on node B, which never saw the first attempt itself (with
      // greylisting per node, B would greylist it as new).
      expect(await send(nodeB, 'alice@example.test')).toEqual([250, expect.any(String), 250]);

      // Stored on the shared queue with its inbound record; whichever node leased it delivered it.
      const inbox = join(maildirs.path, 'example.test', 'alice', 'new');
      await waitUntil('the message is in the Maildir', async () => {
        try {
          return readdirSync(inbox).length === 1;
        } catch {
          return false; // not created yet
        }
      });
      const [file] = readdirSync(inbox);
      expect(readFileSync(join(inbox, file ?? ''), 'latin1')).toMatch(/\r\nSubject: greylisted\r\n/);
      const page = inboundPageSchema.parse(await (await fetch(`${nodeA.baseUrl}/api/v1/inbound`)).json());
      expect(page.messages).toMatchObject([
        {
          sender: 'bob@origin.test',
          recipients: [{ recipient: 'alice@example.test' }],
          checks: expect.arrayContaining([expect.objectContaining({ check: 'greylist', result: 'pass' })]),
        },
      ]);
      // The file is written before the delivery is recorded: wait for the record too.
      const showInbound = async () =>
        inboundMessageSchema.parse(
          await (await fetch(`${nodeA.baseUrl}/api/v1/inbound/${page.messages[0]?.messageId}`)).json(),
        );
      await waitUntil('the delivery is recorded', async () =>
        (await showInbound()).deliveries.every((delivery) => delivery.status === 'delivered'),
      );
      const shown = await showInbound();
      expect(shown.deliveries).toMatchObject([
        { recipient: 'alice@example.test', status: 'delivered', via: 'maildir' },
      ]);
    } finally {
      await Promise.all(nodes.map((node) => node.stop()));
      await remote.stop();
      maildirs.remove();
    }
  }, 180_000);
});

describe('the MTA inbox on PostgreSQL', () => {
  it("mail relayed through node A is listed, searchable and readable in node B's inbox, shown delivered in its queue, and gone from both once purged", async () => {
    const url = await freshDatabase();
    const remote = await startRemoteMx(0);
    const [nodeA, nodeB] = await startNodes(2, url, remote);
    if (nodeA === undefined || nodeB === undefined) throw new Error('two nodes expected');
    try {
      const relayPort = nodeA.app.mtaListeners.find((listener) => listener.role === 'relay')?.address.port;
      await relay(relayPort ?? 0, 'listed-on-every-node');
      await remote.mx.waitForMessages(1);
      // Listed with its parsed header (the MTA parses the header section), found by a search.
      let listed: Awaited<ReturnType<typeof findBySubject>> | undefined;
      await waitUntil('node B lists the message', async () => {
        listed = await findBySubject(nodeB.baseUrl, 'listed-on-every-node').catch(() => undefined);
        return listed !== undefined;
      });
      expect(listed).toMatchObject({ envelopeFrom: 'app@sender.test', envelopeTo: ['someone@remote.test'] });
      const raw = (await rawOf(nodeB.baseUrl, listed?.id ?? '')).toString('latin1');
      expect(raw).toMatch(/^Received: from client\.test /);
      expect(raw).toContain('\r\nSubject: listed-on-every-node\r\n');
      // The queue page of either node shows it delivered.
      const shown = (await (await fetch(`${nodeB.baseUrl}/api/v1/queue/messages/${listed?.id}`)).json()) as {
        deliveries: { status: string }[];
      };
      expect(shown.deliveries.map((delivery) => delivery.status)).toEqual(['delivered']);
      // An operator's purge on node A removes it from the one store: gone from node B's inbox too.
      const purge = await fetch(`${nodeA.baseUrl}/api/v1/queue/purge`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      expect(await purge.json()).toEqual({ purged: 1 });
      expect((await fetch(`${nodeB.baseUrl}/api/v1/messages/${listed?.id}`)).status).toBe(404);
      expect((await fetch(`${nodeB.baseUrl}/api/v1/queue/messages/${listed?.id}`)).status).toBe(404);
    } finally {
      await Promise.all([nodeA.stop(), nodeB.stop()]);
      await remote.stop();
    }
  }, 180_000);
});
