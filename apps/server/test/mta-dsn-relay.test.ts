import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import {
  type AiosmtpdPeer,
  type DnsStub,
  requireTool,
  startAiosmtpd,
  startDnsStub,
} from '@smtp/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeliveryRoom, type DeliveryRoom } from '../src/delivery/delivery-room.js';
import { createRemoteTransport } from '../src/delivery/transports/remote-transport.js';
import { parseMessage } from '../src/mime/parse-message.js';
import { createMessageId } from '../src/pipeline/message-id.js';
import type { RecipientParameters } from '../src/queue/recipient-parameters.js';
import { SqliteStorage } from '../src/sqlite/sqlite-storage.js';
import { FakeClock } from './support/fake-clock.js';
import { temporaryDirectory } from './support/messages.js';
import { portFreeOn } from './support/mta-testbed.js';

// DSN parameters relayed (RFC 3461 §5.2): two Postfix smtp-sinks as next hops, one offering DSN
// (dsn.test, 127.0.0.7) and one not (-N: nodsn.test, 127.0.0.8), each dumping every transaction with
// its MAIL and RCPT arguments (X-Mail-Args, X-Rcpt-Args). The sender's MX is aiosmtpd on 127.0.0.2,
// where the "relayed" reports arrive.
describe('MTA: NOTIFY, ORCPT, ENVID and RET passed to a next hop that offers DSN', () => {
  const clock = new FakeClock(Date.UTC(2026, 0, 5, 9, 0, 0));
  let directory: ReturnType<typeof temporaryDirectory>;
  let storage: SqliteStorage;
  let dns: DnsStub;
  let remote: AiosmtpdPeer;
  let sinks: ChildProcess[] = [];
  let room: DeliveryRoom;

  beforeAll(async () => {
    requireTool('/usr/sbin/smtp-sink', 'apt-get install postfix');
    directory = temporaryDirectory();
    chmodSync(directory.path, 0o755); // the sinks, running as nobody, write below it
    const port = await portFreeOn(['127.0.0.2', '127.0.0.7', '127.0.0.8']);
    [dns, remote] = await Promise.all([
      startDnsStub({
        'sender.test': { mx: [{ preference: 10, exchange: 'mx.sender.test' }] },
        'mx.sender.test': { a: ['127.0.0.2'] },
        'dsn.test': { mx: [{ preference: 10, exchange: 'mx.dsn.test' }] },
        'mx.dsn.test': { a: ['127.0.0.7'] },
        'nodsn.test': { mx: [{ preference: 10, exchange: 'mx.nodsn.test' }] },
        'mx.nodsn.test': { a: ['127.0.0.8'] },
      }),
      startAiosmtpd({ host: '127.0.0.2', port }),
    ]);
    sinks = [
      await startDumpingSink('127.0.0.7', port, join(directory.path, 'dsn'), []),
      await startDumpingSink('127.0.0.8', port, join(directory.path, 'nodsn'), ['-N']),
    ];
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
        connectionReuse: null,
      }),
      hostname: 'mta.local.test',
      clock,
    });
    await room.start();
  }, 30_000);

  afterAll(async () => {
    await room?.stop({ graceMs: 1000 });
    await storage?.close();
    for (const sink of sinks) sink.kill('SIGTERM');
    await Promise.all([dns?.close(), remote?.stop()]);
    directory?.remove();
  });

  async function submit(to: string[], parameters: (RecipientParameters | undefined)[]): Promise<string> {
    const id = createMessageId(clock.now());
    await room.accept({
      id,
      receivedAtMs: clock.now(),
      envelope: {
        from: 'alice@sender.test',
        to,
        mailParameters: { ENVID: `env-${id}`, RET: 'HDRS' },
        rcptParameters: to.map(() => ({})),
      },
      session: null,
      recipientParameters: parameters,
      source: new TextEncoder().encode(`Subject: ${id}\r\nMessage-ID: <${id}@sender.test>\r\n\r\nHi.\r\n`),
    });
    return id;
  }

  it('passes them to a DSN server as received, and reports nothing itself on success', async () => {
    const id = await submit(
      ['Ann@dsn.test', 'bob@dsn.test', 'cy@dsn.test'],
      [
        {
          notify: ['SUCCESS', 'FAILURE'],
          orcpt: { addressType: 'rfc822', address: 'Ann.Original@Sender.test' },
        },
        { notify: 'NEVER' },
        undefined,
      ],
    );
    await room.scheduler.idle();
    const [dump] = await waitForDumps(join(directory.path, 'dsn'), 1);
    const [mailArgs] = fieldsOf(dump ?? '', 'X-Mail-Args');
    expect(mailArgs).toMatch(/^<alice@sender\.test> /);
    expect(mailArgs?.split(' ')).toEqual(expect.arrayContaining(['RET=HDRS', `ENVID=env-${id}`]));
    expect(fieldsOf(dump ?? '', 'X-Rcpt-Args')).toEqual([
      '<Ann@dsn.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Ann.Original@Sender.test',
      '<bob@dsn.test> NOTIFY=NEVER',
      '<cy@dsn.test>', // RFC 3461 §5.2.1 (c): no NOTIFY received, none sent
    ]);
    expect(await storage.queue.countByStatus()).toMatchObject({ delivered: 3, queued: 0 });
    // The next hop took NOTIFY=SUCCESS on: the success is its to report (no "relayed" from us).
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(remote.messages.filter((message) => message.data.includes(`env-${id}`))).toEqual([]);
  });

  it('leaves them out for a server without DSN, and sends the "relayed" report itself', async () => {
    const id = await submit(
      ['dee@nodsn.test', 'eve@nodsn.test'],
      [{ notify: ['SUCCESS'], orcpt: { addressType: 'rfc822', address: 'dee@sender.test' } }, undefined],
    );
    await room.scheduler.idle();
    const [dump] = await waitForDumps(join(directory.path, 'nodsn'), 1);
    // RFC 3461 §5.2.2 (a): no ENVID, RET, NOTIFY or ORCPT to a server without DSN.
    expect(fieldsOf(dump ?? '', 'X-Mail-Args')).toEqual(['<alice@sender.test> BODY=7BIT']);
    expect(fieldsOf(dump ?? '', 'X-Rcpt-Args')).toEqual(['<dee@nodsn.test>', '<eve@nodsn.test>']);
    const [report] = await remote
      .waitForMessages(1)
      .then((messages) => messages.filter((message) => message.data.includes(`env-${id}`)));
    expect(report?.from).toBe('<>');
    expect(report?.data).toMatch(/^Action: relayed$/m);
    expect(report?.data).toMatch(/^Final-Recipient: rfc822; ?dee@nodsn\.test$/m);
    expect(report?.data).toMatch(/^Original-Recipient: rfc822; ?dee@sender\.test$/m);
    expect(report?.data).not.toMatch(/eve@nodsn\.test/);
  });
});

/** smtp-sink dumping each transaction to `directory` (X-Mail-Args, X-Rcpt-Args, then the message). */
async function startDumpingSink(
  host: string,
  port: number,
  directory: string,
  extra: readonly string[],
): Promise<ChildProcess> {
  mkdirSync(directory, { recursive: true });
  chmodSync(directory, 0o777); // smtp-sink runs as nobody
  const child = spawn(
    '/usr/sbin/smtp-sink',
    ['-u', 'nobody', ...extra, '-d', `${directory}/m.`, `${host}:${port}`, '10'],
    { stdio: 'ignore' },
  );
  const deadline = Date.now() + 10_000;
  while (
    !(await new Promise<boolean>((resolve) => {
      const probe = createServer();
      probe.once('error', () => resolve(true)); // taken: smtp-sink listens
      probe.listen(port, host, () => probe.close(() => resolve(false)));
    }))
  ) {
    if (Date.now() > deadline) throw new Error(`smtp-sink did not listen on ${host}:${port}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return child;
}

async function waitForDumps(directory: string, count: number): Promise<string[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const files = readdirSync(directory).sort();
    if (files.length >= count) return files.map((file) => readFileSync(join(directory, file), 'latin1'));
    if (Date.now() > deadline) throw new Error(`no dump in ${directory}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function fieldsOf(dump: string, name: string): string[] {
  return dump
    .split(/\r?\n/)
    .filter((line) => line.startsWith(`${name}: `))
    .map((line) => line.slice(name.length + 2));
}
