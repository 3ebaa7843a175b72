import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import {
  type AiosmtpdMessage,
  type AiosmtpdPeer,
  type DnsStub,
  startAiosmtpd,
  startDnsStub,
} from '@smtp/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeliveryRoom, type DeliveryRoom } from '../src/delivery/delivery-room.js';
import { createRemoteTransport } from '../src/delivery/transports/remote-transport.js';
import { parseMessage } from '../src/mime/parse-message.js';
import { createMessageId } from '../src/pipeline/message-id.js';
import type { RetryPolicy } from '../src/queue/retry-policy.js';
import { SqliteStorage } from '../src/sqlite/sqlite-storage.js';
import { FakeClock } from './support/fake-clock.js';
import { temporaryDirectory } from './support/messages.js';
import { portFreeOn } from './support/mta-testbed.js';

const minute = 60_000;
const hour = 60 * minute;

// A short life for queued mail, so the fake clock reaches the give-up quickly: warned after 1 h,
// given up after 6 h (the config refuses less than 4 days; the room takes any policy).
const policy: RetryPolicy = {
  schedule: [10 * minute, 30 * minute, hour],
  repeatEvery: 2 * hour,
  jitter: 0,
  giveUpAfter: 6 * hour,
  delayWarningAfter: hour,
};

// Dead MX hosts, with real sockets and a fake clock: dead.test's MX (127.0.0.4) refuses every
// connection (nothing listens there); down.test's MX (127.0.0.5) accepts and hangs up at once, and
// counts the connections. The DSNs go to the sender's MX, aiosmtpd on 127.0.0.2, and are read there.
describe('MTA: a dead MX gets a delay DSN, then a failure DSN, and costs one probe per back-off', () => {
  const start = Date.UTC(2026, 0, 5, 9, 0, 0);
  const clock = new FakeClock(start);
  let directory: ReturnType<typeof temporaryDirectory>;
  let storage: SqliteStorage;
  let dns: DnsStub;
  let remote: AiosmtpdPeer;
  let hangingUp: Server;
  let connections = 0;
  let room: DeliveryRoom;

  beforeAll(async () => {
    const port = await portFreeOn(['127.0.0.2', '127.0.0.4', '127.0.0.5']);
    [dns, remote, hangingUp] = await Promise.all([
      startDnsStub({
        'sender.test': { mx: [{ preference: 10, exchange: 'mx.sender.test' }] },
        'mx.sender.test': { a: ['127.0.0.2'] },
        'dead.test': { mx: [{ preference: 10, exchange: 'mx.dead.test' }] },
        'mx.dead.test': { a: ['127.0.0.4'] },
        'down.test': { mx: [{ preference: 10, exchange: 'mx.down.test' }] },
        'mx.down.test': { a: ['127.0.0.5'] },
      }),
      startAiosmtpd({ host: '127.0.0.2', port }),
      listen('127.0.0.5', port, (socket) => {
        connections += 1;
        socket.destroy();
      }),
    ]);
    directory = temporaryDirectory();
    storage = new SqliteStorage({ parse: parseMessage, path: join(directory.path, 'messages.sqlite') });
    room = createDeliveryRoom({
      spool: storage.spool,
      queue: storage.queue,
      transport: createRemoteTransport({
        hostname: 'mta.local.test',
        dnsServers: [dns.address],
        port,
        clock,
        mtaSts: false,
        timeouts: { connectMs: 5000, commandMs: 5000 },
      }),
      hostname: 'mta.local.test',
      clock,
      retryPolicy: policy,
      random: () => 0.5,
    });
    await room.start();
  }, 30_000);

  afterAll(async () => {
    await room?.stop({ graceMs: 1000 });
    await storage?.close();
    directory?.remove();
    await new Promise((resolve) => hangingUp?.close(resolve));
    await Promise.all([dns?.close(), remote?.stop()]);
  });

  async function submit(from: string, to: string): Promise<string> {
    const id = createMessageId(clock.now());
    await room.accept({
      id,
      receivedAtMs: clock.now(),
      envelope: { from, to: [to], mailParameters: { ENVID: id }, rcptParameters: [{}] },
      session: null,
      source: new TextEncoder().encode(
        `From: <${from}>\r\nTo: <${to}>\r\nSubject: ${id}\r\nMessage-ID: <${id}@sender.test>\r\n\r\nHello.\r\n`,
      ),
    });
    return id;
  }

  /** Moves the fake clock minute by minute to `until`, letting each due attempt run. */
  async function runUntil(until: number): Promise<void> {
    while (clock.now() < until) {
      clock.advance(Math.min(minute, until - clock.now()));
      await room.scheduler.idle();
    }
  }

  function reportsTo(address: string, envelopeId: string): AiosmtpdMessage[] {
    return remote.messages.filter(
      (message) =>
        message.from === '<>' &&
        message.to.includes(address) &&
        message.data.includes(`Original-Envelope-Id: ${envelopeId}`),
    );
  }

  it('a refused connection: one delay DSN after delayWarningAfter, one failure DSN at give-up (RFC 3464)', async () => {
    const arrivedAt = clock.now();
    const id = await submit('alice@sender.test', 'bob@dead.test');
    await room.scheduler.idle();
    const [first] = (await storage.queue.show(id))?.attempts ?? [];
    expect(first).toMatchObject({
      outcome: 'deferred',
      status: '4.4.1',
      mxHost: 'mx.dead.test',
      reply: null,
    });
    expect(first?.error).toMatch(/ECONNREFUSED|refused/i);

    await runUntil(arrivedAt + hour - minute);
    expect(reportsTo('alice@sender.test', id)).toEqual([]);
    await runUntil(arrivedAt + 2 * hour);
    await waitUntil(() => reportsTo('alice@sender.test', id).length === 1);
    const [delayed] = reportsTo('alice@sender.test', id);
    const delayedStatus = deliveryStatusOf(delayed?.data ?? '');
    expect(delayed?.data).toMatch(/^Content-Type: multipart\/report; report-type=delivery-status;/m);
    expect(delayed?.data).toMatch(/^Auto-Submitted: auto-replied/m);
    expect(delayedStatus.perMessage).toMatchObject({ 'reporting-mta': 'dns; mta.local.test' });
    expect(delayedStatus.perRecipient).toMatchObject({
      'final-recipient': 'rfc822; bob@dead.test',
      action: 'delayed',
      status: '4.4.1',
    });
    expect(delayedStatus.perRecipient).toHaveProperty('will-retry-until');
    expect(delayedStatus.perRecipient).toHaveProperty('last-attempt-date');
    // No SMTP reply came: no Diagnostic-Code (RFC 3464 §2.3.6 is for the remote's reply).
    expect(delayedStatus.perRecipient).not.toHaveProperty('diagnostic-code');

    await runUntil(arrivedAt + 6 * hour - minute);
    expect(reportsTo('alice@sender.test', id)).toHaveLength(1);
    expect((await storage.queue.show(id))?.deliveries[0]?.state.status).toBe('queued');
    await runUntil(arrivedAt + 6 * hour + 5 * minute);
    await waitUntil(() => reportsTo('alice@sender.test', id).length === 2);
    const failed = reportsTo('alice@sender.test', id)[1];
    const failedStatus = deliveryStatusOf(failed?.data ?? '');
    expect(failedStatus.perRecipient).toMatchObject({
      'final-recipient': 'rfc822; bob@dead.test',
      action: 'failed',
      status: '5.4.7', // RFC 3463: delivery time expired
      'remote-mta': 'dns; mx.dead.test',
    });
    expect(failedStatus.perRecipient).not.toHaveProperty('diagnostic-code');
    expect(failedStatus.perRecipient).not.toHaveProperty('will-retry-until');
    expect((await storage.queue.show(id))?.deliveries[0]?.state).toMatchObject({
      status: 'failed',
      cause: 'expired',
    });

    // Exactly once each: hours later, nothing more.
    await runUntil(clock.now() + 3 * hour);
    expect(reportsTo('alice@sender.test', id)).toHaveLength(2);
  }, 120_000);

  it('many messages to a domain that is down cost one probe per back-off, not an attempt per message', async () => {
    const arrivedAt = clock.now();
    const messages = 30;
    const ids: string[] = [];
    for (let index = 0; index < messages; index++)
      ids.push(await submit('carol@sender.test', `user${index}@down.test`));
    await room.scheduler.idle();
    // Slow start (2 sessions) until 3 connection failures in a row mark it down.
    const beforeDown = connections;
    expect(beforeDown).toBeGreaterThanOrEqual(3);
    expect(beforeDown).toBeLessThanOrEqual(4);

    await runUntil(arrivedAt + 2 * hour);
    // Back-offs double from 1 minute to at most 30: 1, 2, 4, 8, 16, 30, 30, … → 7 probes in 2 hours.
    const probes = connections - beforeDown;
    console.info(
      `${messages} messages to a dead domain over 2 h: ${connections} connections (${probes} probes)`,
    );
    expect(probes).toBeGreaterThanOrEqual(5);
    expect(probes).toBeLessThanOrEqual(8);

    // The back-off does not hide them from the retry policy: each is warned once and fails at give-up.
    await runUntil(arrivedAt + 6 * hour + 5 * minute);
    await waitUntil(() => ids.every((id) => reportsTo('carol@sender.test', id).length === 2));
    for (const id of ids) {
      const actions = reportsTo('carol@sender.test', id).map(
        (report) => deliveryStatusOf(report.data).perRecipient.action,
      );
      expect(actions).toEqual(['delayed', 'failed']);
    }
    expect(await storage.queue.countByStatus()).toMatchObject({ queued: 0, 'in-flight': 0 });
    expect(connections).toBeLessThan(messages);
  }, 180_000);
});

/** The message/delivery-status part: per-message fields and the (first) per-recipient block, lower-case names. */
function deliveryStatusOf(data: string): {
  perMessage: Record<string, string>;
  perRecipient: Record<string, string>;
} {
  const part =
    /Content-Type: message\/delivery-status[^\r\n]*\r?\n(?:[^\r\n]+\r?\n)*\r?\n([\s\S]*?)\r?\n--/i.exec(data);
  if (part === null) throw new Error(`no message/delivery-status part in:\n${data}`);
  const [perMessage = '', perRecipient = ''] = (part[1] as string).split(/\r?\n\r?\n/);
  return { perMessage: fieldsOf(perMessage), perRecipient: fieldsOf(perRecipient) };
}

function fieldsOf(block: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of block.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) fields[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return fields;
}

async function waitUntil(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function listen(host: string, port: number, onConnection: (socket: import('node:net').Socket) => void) {
  return new Promise<Server>((resolve, reject) => {
    const server = createServer(onConnection);
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
