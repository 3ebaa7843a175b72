import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import {
  type AiosmtpdPeer,
  type DnsStub,
  requireTool,
  startAiosmtpd,
  startDnsStub,
} from '@smtp/test-support';
import PostalMime from 'postal-mime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeliveryRoom, type DeliveryRoom } from '../src/delivery/delivery-room.js';
import { createRemoteTransport } from '../src/delivery/transports/remote-transport.js';
import { parseMessage } from '../src/mime/parse-message.js';
import { createMessageId } from '../src/pipeline/message-id.js';
import type { RecipientParameters } from '../src/queue/recipient-parameters.js';
import { deliveryRows } from '../src/queue/router.js';
import { SqliteStorage } from '../src/sqlite/sqlite-storage.js';
import { FakeClock } from './support/fake-clock.js';
import { temporaryDirectory } from './support/messages.js';
import { portFreeOn } from './support/mta-testbed.js';

// The MTA's delivery side end to end, before the MTA listeners feed it: messages enter through the
// queue sink (spool + deliveries in one commit), the scheduler leases them, the remote transport
// delivers through @smtp/client deliver() to real peers found through the DNS stub: aiosmtpd on
// 127.0.0.2 (it reports the null sender as "<>"; local parts "temp…" get 450, "perm…" 550 5.1.1) and Postfix's smtp-sink on 127.0.0.3
// refusing every RCPT with a 4xx. Time is a fake clock, so a retry ten minutes later takes none.
describe('MTA delivery: queue → scheduler → remote transport → outcomes', () => {
  const start = Date.UTC(2026, 0, 5, 9, 0, 0);
  const clock = new FakeClock(start);
  let directory: ReturnType<typeof temporaryDirectory>;
  let storage: SqliteStorage;
  let dns: DnsStub;
  let remote: AiosmtpdPeer;
  let refusing: { stop(): Promise<void> };
  let room: DeliveryRoom;
  const problems: string[] = [];

  beforeAll(async () => {
    const port = await portFreeOn(['127.0.0.2', '127.0.0.3']);
    [dns, remote, refusing] = await Promise.all([
      startDnsStub({
        'remote.test': { mx: [{ preference: 10, exchange: 'mx.remote.test' }] },
        'mx.remote.test': { a: ['127.0.0.2'] },
        'sender.test': { mx: [{ preference: 10, exchange: 'mx.remote.test' }] },
        'retry.test': { mx: [{ preference: 10, exchange: 'mx.retry.test' }] },
        'mx.retry.test': { a: ['127.0.0.3'] },
        'nullmx.test': { mx: [{ preference: 0, exchange: '.' }] },
        'slow.test': { mx: [{ preference: 10, exchange: 'mx.slow.test' }] },
        'mx.slow.test': { a: ['127.0.0.3'] },
      }),
      startAiosmtpd({ host: '127.0.0.2', port }),
      startRefusingSink('127.0.0.3', port),
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
        timeouts: { connectMs: 5000, commandMs: 5000 },
      }),
      hostname: 'mta.local.test',
      clock,
      random: () => 0.5, // no jitter: the first retry is exactly 10 minutes later
      onProblem: (problem, details) => problems.push(`${problem}: ${JSON.stringify(details)}`),
    });
    await room.start();
  }, 30_000);

  afterAll(async () => {
    await room?.stop({ graceMs: 1000 });
    await storage?.close();
    directory?.remove();
    await Promise.all([dns?.close(), remote?.stop(), refusing?.stop()]);
  });

  async function submit(
    from: string,
    to: string[],
    options: {
      body?: string;
      parameters?: (RecipientParameters | undefined)[];
      mailParameters?: Record<string, string>;
    } = {},
  ): Promise<{ id: string; raw: Uint8Array }> {
    const id = createMessageId(clock.now());
    const raw = new TextEncoder().encode(
      `From: <${from || 'mailer-daemon@elsewhere.test'}>\r\nTo: <${to[0]}>\r\nSubject: ${id}\r\n` +
        `Message-ID: <${id}@local.test>\r\n\r\n${options.body ?? 'Hello.\r\n'}`,
    );
    await room.accept({
      id,
      receivedAtMs: clock.now(),
      envelope: {
        from,
        to,
        mailParameters: options.mailParameters ?? {},
        rcptParameters: to.map(() => ({})),
      },
      session: null,
      ...(options.parameters === undefined ? {} : { recipientParameters: options.parameters }),
      source: raw,
    });
    return { id, raw };
  }

  async function settled(): Promise<void> {
    // Sessions and DSNs they spool run on real sockets: wait until nothing is leased.
    await room.scheduler.idle();
  }

  async function statesOf(id: string) {
    const shown = await storage.queue.show(id);
    return Object.fromEntries(
      shown?.deliveries.map((delivery) => [delivery.recipient, delivery.state]) ?? [],
    );
  }

  /** What aiosmtpd received for `address`: its report line may arrive just after our session ends. */
  async function receivedFor(address: string, options: { from?: string; count?: number } = {}) {
    const matching = () =>
      remote.messages.filter(
        (message) =>
          message.to.includes(address) && (options.from === undefined || message.from === options.from),
      );
    await waitUntil(() => matching().length >= (options.count ?? 1));
    return matching();
  }

  /** Reports (messages from <>) the queue holds for `address`, delivered or not. */
  async function queuedReportsTo(address: string) {
    return (await storage.queue.list({ limit: 10_000 })).filter(
      (delivery) => delivery.sender === '' && delivery.recipient === address,
    );
  }

  it('delivers to the MX the DNS stub names, byte for byte, with the attempt recorded', async () => {
    const body = 'Line one.\r\n.A line that starts with a dot.\r\n\r\nLast line without end';
    const { id, raw } = await submit('alice@sender.test', ['bob@remote.test'], { body });
    await settled();
    const [received] = await receivedFor('bob@remote.test');
    expect(received?.from).toBe('alice@sender.test');
    // aiosmtpd reports the content after dot-unstuffing, with the CRLF that ends the data.
    expect(received?.data).toBe(`${new TextDecoder().decode(raw)}\r\n`);
    expect(await statesOf(id)).toMatchObject({ 'bob@remote.test': { status: 'delivered', attempts: 1 } });
    const shown = await storage.queue.show(id);
    expect(shown?.attempts[0]).toMatchObject({
      mxHost: 'mx.remote.test',
      outcome: 'delivered',
      rule: 'accepted',
      reply: { code: 250 },
    });
    expect(shown?.attempts[0]?.transcript).toMatch(/\[mx\.remote\.test\] C: RCPT TO:<bob@remote\.test>/);
  });

  it('retries a 4xx at the scheduled time (fake clock), then delivers', async () => {
    const { id } = await submit('alice@sender.test', ['rita@retry.test']);
    await settled();
    expect(await statesOf(id)).toMatchObject({
      'rita@retry.test': { status: 'queued', dueAt: clock.now() + 10 * 60_000, attempts: 1 },
    });
    const [first] = (await storage.queue.show(id))?.attempts ?? [];
    expect(first).toMatchObject({ outcome: 'deferred', mxHost: 'mx.retry.test', reply: { code: 450 } });

    dns.zone.set('mx.retry.test', { a: ['127.0.0.2'] }); // the destination recovers
    clock.advance(10 * 60_000 - 1);
    await settled();
    expect(remote.messages.some((message) => message.to.includes('rita@retry.test'))).toBe(false);
    clock.advance(1);
    await receivedFor('rita@retry.test');
    await settled();
    expect(await statesOf(id)).toMatchObject({ 'rita@retry.test': { status: 'delivered', attempts: 2 } });
  });

  it('partial acceptance: one transaction; accepted delivered, 550 failed, 450 deferred', async () => {
    const { id } = await submit(
      'carol@sender.test',
      ['ok1@remote.test', 'perm2@remote.test', 'temp3@remote.test'],
      {
        parameters: [undefined, { notify: 'NEVER' }, undefined],
      },
    );
    await settled();
    const delivered = await receivedFor('ok1@remote.test');
    expect(delivered.map((message) => message.to)).toEqual([['ok1@remote.test']]);
    expect(await statesOf(id)).toMatchObject({
      'ok1@remote.test': { status: 'delivered' },
      'perm2@remote.test': { status: 'failed', cause: 'rejected' },
      'temp3@remote.test': { status: 'queued', attempts: 1 },
    });
    const attempts = (await storage.queue.show(id))?.attempts ?? [];
    expect(new Set(attempts.map((attempt) => attempt.transcript)).size).toBe(1); // one session
    // NOTIFY=NEVER on the failed one: no report.
    expect(await queuedReportsTo('carol@sender.test')).toEqual([]);
  });

  it('a 5xx sends exactly one RFC 3464 failure report, honouring RET, ENVID and ORCPT', async () => {
    const { id } = await submit('dave@sender.test', ['perm-a@remote.test', 'perm-b@remote.test'], {
      parameters: [{ orcpt: { addressType: 'rfc822', address: 'Perm-A@remote.test' } }, undefined],
      mailParameters: { RET: 'HDRS', ENVID: 'envelope-42' },
    });
    await settled();
    expect(await queuedReportsTo('dave@sender.test')).toHaveLength(1);
    const reports = await receivedFor('dave@sender.test', { from: '<>' });
    expect(reports).toHaveLength(1);
    const parsed = await PostalMime.parse(reports[0]?.data ?? '');
    expect(parsed.headers.find((header) => header.key === 'content-type')?.value).toMatch(
      /^multipart\/report; report-type=delivery-status; boundary=/,
    );
    expect(parsed.headers.find((header) => header.key === 'auto-submitted')?.value).toBe('auto-replied');
    const status = parsed.attachments.find((part) => part.mimeType === 'message/delivery-status');
    const statusText =
      typeof status?.content === 'string' ? status.content : new TextDecoder().decode(status?.content);
    const groups = statusText.trim().split(/\r?\n\r?\n/);
    expect(groups[0]).toMatch(/^Reporting-MTA: dns; mta\.local\.test$/m);
    expect(groups[0]).toMatch(/^Original-Envelope-Id: envelope-42$/m);
    expect(groups.slice(1)).toHaveLength(2);
    expect(groups[1]).toMatch(/^Original-Recipient: rfc822; Perm-A@remote\.test$/m);
    expect(groups[1]).toMatch(/^Final-Recipient: rfc822; perm-a@remote\.test$/m);
    expect(groups[1]).toMatch(/^Action: failed$/m);
    expect(groups[1]).toMatch(/^Status: 5\.1\.1$/m);
    expect(groups[1]).toMatch(/^Remote-MTA: dns; mx\.remote\.test$/m);
    expect(groups[1]).toMatch(/^Diagnostic-Code: smtp; 550 5\.1\.1 No such user$/m);
    expect(groups[2]).toMatch(/^Final-Recipient: rfc822; perm-b@remote\.test$/m);
    // RET=HDRS: the original's header section comes back, not its body.
    const returned = parsed.attachments.find((part) => part.mimeType === 'text/rfc822-headers');
    const returnedText =
      typeof returned?.content === 'string' ? returned.content : new TextDecoder().decode(returned?.content);
    expect(returnedText).toContain(`Subject: ${id}`);
    expect(returnedText).not.toContain('Hello.');
    // The report went through the queue as a message from <>; asking again reports nothing more.
    const [report] = (await storage.queue.list({ limit: 1000 })).filter(
      (delivery) => delivery.sender === '' && delivery.recipient === 'dave@sender.test',
    );
    expect(report?.state.status).toBe('delivered');
    expect(
      await storage.queue.noticesOf((await storage.queue.show(id))?.deliveries.map((d) => d.id) ?? []),
    ).toEqual(
      new Map([
        [expect.any(Number), new Set(['failed'])],
        [expect.any(Number), new Set(['failed'])],
      ]),
    );
  });

  it('Null MX fails at once; the report names only the recipient whose NOTIFY asked for it', async () => {
    const { id } = await submit('erin@sender.test', ['never@nullmx.test', 'told@nullmx.test'], {
      parameters: [{ notify: 'NEVER' }, { notify: ['FAILURE'] }],
    });
    await settled();
    expect(await statesOf(id)).toMatchObject({
      'never@nullmx.test': { status: 'failed', attempts: 1 },
      'told@nullmx.test': { status: 'failed', attempts: 1 },
    });
    expect((await storage.queue.show(id))?.deliveries[0]?.lastStatus).toBe('5.1.10');
    expect(await queuedReportsTo('erin@sender.test')).toHaveLength(1);
    const reports = await receivedFor('erin@sender.test', { from: '<>' });
    expect(reports).toHaveLength(1);
    expect(reports[0]?.data).toMatch(/Final-Recipient: rfc822; told@nullmx\.test/);
    expect(reports[0]?.data).not.toMatch(/Final-Recipient: rfc822; never@nullmx\.test/);
  });

  it('a bounce that fails is dropped, not bounced', async () => {
    const before = (await storage.queue.list({ limit: 10_000 })).length;
    const { id } = await submit('', ['perm-bounce@remote.test']);
    await settled();
    expect(await statesOf(id)).toMatchObject({ 'perm-bounce@remote.test': { status: 'failed' } });
    expect((await storage.queue.list({ limit: 10_000 })).length).toBe(before + 1); // no new report
  });

  it('warns the sender once when a delivery is still deferred after 4 hours', async () => {
    const { id } = await submit('gina@sender.test', ['late@slow.test'], {
      parameters: [{ notify: ['DELAY', 'FAILURE'] }],
    });
    await settled();
    // The schedule: +10 min, +30 min, +1 h, +2 h, then every 3 h. The attempt at 3 h 40 min is
    // before the warning is due; the one at 6 h 40 min warns; the one at 9 h 40 min does not again.
    for (const wait of [10, 30, 60, 120]) {
      clock.advance(wait * 60_000);
      await waitUntil(async () => (await statesOf(id))['late@slow.test']?.status === 'queued');
      await settled();
    }
    expect(await queuedReportsTo('gina@sender.test')).toEqual([]);
    for (let round = 0; round < 2; round++) {
      clock.advance(180 * 60_000);
      await waitUntil(async () => (await storage.queue.show(id))?.attempts.length === 6 + round);
      await settled();
    }
    expect((await storage.queue.show(id))?.attempts).toHaveLength(7);
    const reports = await receivedFor('gina@sender.test', { from: '<>' });
    expect(reports).toHaveLength(1);
    expect(reports[0]?.data).toMatch(/^Action: delayed$/m);
    expect(reports[0]?.data).toMatch(/^Status: 4\.\d\.\d+$/m);
    expect(reports[0]?.data).toMatch(/^Will-Retry-Until: /m);
    expect(await queuedReportsTo('gina@sender.test')).toHaveLength(1);
  });

  it("an operator's bounce fails the delivery and sends the report the sender asked for", async () => {
    const { id } = await submit('hank@sender.test', ['bounced@slow.test']);
    await settled();
    const [delivery] = (await storage.queue.show(id))?.deliveries ?? [];
    expect(delivery?.state.status).toBe('queued');
    const bounced = await storage.queue.act(delivery?.id ?? 0, 'bounce', clock.now());
    expect(bounced).toMatchObject({ ok: true, state: { status: 'failed', cause: 'bounced' } });
    const updated = await storage.queue.get(delivery?.id ?? 0);
    await room.reportBounced(updated === null ? [] : [updated]);
    const [report] = await receivedFor('hank@sender.test', { from: '<>' });
    expect(report?.data).toMatch(/^Final-Recipient: rfc822; bounced@slow\.test$/m);
    expect(report?.data).toMatch(/^Status: 5\.0\.0$/m);
  });

  it('a lease whose worker crashed is delivered once after it expires', async () => {
    // A worker leased the delivery and died without a report (no wake: it is not this scheduler's).
    const id = createMessageId(clock.now());
    const envelope = {
      from: 'frank@sender.test',
      to: ['crash@remote.test'],
      mailParameters: {},
      rcptParameters: [{}],
    };
    await storage.spool.receive(new TextEncoder().encode(`Subject: ${id}\r\n\r\nOnce.\r\n`), {
      id,
      receivedAtMs: clock.now(),
      envelope,
      session: null,
      companionRows: deliveryRows({
        messageId: id,
        receivedAtMs: clock.now(),
        envelope,
        postmasterDomain: 'x.test',
      }),
    });
    const [crashed] = await storage.queue.claimDue({
      now: clock.now(),
      limit: 1,
      holder: 'crashed',
      leaseMs: 60_000,
    });
    expect(crashed?.messageId).toBe(id);
    clock.advance(60_000); // the lease expires; the periodic requeue returns it, the scheduler delivers it
    await receivedFor('crash@remote.test');
    await settled();
    expect(await statesOf(id)).toMatchObject({ 'crash@remote.test': { status: 'delivered', attempts: 2 } });
    // The crashed worker's late report is refused: the outcome is recorded once.
    const late = await storage.queue.recordAttempt({
      deliveryId: crashed?.id ?? 0,
      fencing: crashed?.lease.fencing ?? 0,
      now: clock.now(),
      result: { kind: 'failed', cause: 'rejected' },
      attempt: null,
    });
    expect(late.ok).toBe(false);
    expect(remote.messages.filter((message) => message.to.includes('crash@remote.test'))).toHaveLength(1);
    expect(problems).toEqual([]);
  });
});

/** Postfix's smtp-sink answering every RCPT with a 4xx: a destination that defers. */
async function startRefusingSink(host: string, port: number): Promise<{ stop(): Promise<void> }> {
  requireTool('/usr/sbin/smtp-sink', 'apt-get install postfix');
  const child = spawn('/usr/sbin/smtp-sink', ['-u', 'nobody', '-r', 'RCPT', `${host}:${port}`, '10'], {
    stdio: 'ignore',
  });
  await waitUntil(
    () =>
      new Promise<boolean>((resolve) => {
        const probe = createServer();
        probe.once('error', () => resolve(true)); // taken: smtp-sink listens
        probe.listen(port, host, () => probe.close(() => resolve(false)));
      }),
  );
  return {
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
