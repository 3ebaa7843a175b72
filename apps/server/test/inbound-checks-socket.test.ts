import { connect } from 'node:net';
import { serializeDomain } from '@smtp/protocol';
import { createServer, SmtpReplyError, type SmtpServer, type SmtpSession } from '@smtp/server';
import { type DnsStub, dnsblName, requireTool, startDnsStub } from '@smtp/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inboundChecksSchema } from '../src/config/inbound-checks-schema.js';
import { connectionDefences } from '../src/inbound/checks/connection-defences.js';
import { createDnsLookup } from '../src/inbound/checks/dns-lookup.js';
import {
  type InboundCheckResult,
  type InboundCheckSession,
  InboundChecks,
  type StageOutcome,
} from '../src/inbound/checks/inbound-checks.js';
import { parseMessage } from '../src/mime/parse-message.js';
import { SqliteDatabase } from '../src/sqlite/sqlite-database.js';
import { SqliteGreylistStore } from '../src/sqlite/sqlite-greylist-store.js';
import type { InboundChecksConfigInput } from './support/inbound-checks-settings.js';
import { runProcess } from './support/run-process.js';

// The checks' seam over real sockets: @smtp/server hooks wired to InboundChecks the way the mx
// listener plugs them in (a stage outcome becomes the reply), swaks as the sending MTA from
// loopback addresses the DNS stub's SPF, DMARC and DNSBL records know.
const swaks = requireTool('swaks', 'apt-get install -y swaks');
const start = Date.parse('2026-12-06T10:00:00Z');

describe('inbound checks on an SMTP listener', () => {
  let dns: DnsStub;
  let database: SqliteDatabase;
  let nowMs = start;

  beforeAll(async () => {
    dns = await startDnsStub({
      'sock.test': { txt: ['v=spf1 ip4:127.0.0.0/8 -all'] },
      '_dmarc.sock.test': { txt: ['v=DMARC1; p=reject'] },
      'strict.test': { txt: ['v=spf1 -all'] },
      '_dmarc.strict.test': { txt: ['v=DMARC1; p=reject'] },
      [dnsblName('127.0.0.3', 'bl.test')]: { a: ['127.0.0.2'], txt: ['see https://bl.test/127.0.0.3'] },
    });
    database = new SqliteDatabase({ path: ':memory:', parse: parseMessage });
  });
  afterAll(async () => {
    await database?.close();
    await dns?.close();
  });

  /** A listener whose hooks only run the checks and keep what they decided. */
  async function startListener(input: InboundChecksConfigInput) {
    const settings = inboundChecksSchema.parse(input);
    const checks = new InboundChecks({
      settings,
      authservId: 'mx.test',
      hostname: 'mx.test',
      lookup: createDnsLookup({ servers: [dns.address], timeoutMs: 2000, tries: 1 }),
      greylistStore: new SqliteGreylistStore(database.connection),
      now: () => nowMs,
    });
    const results: InboundCheckResult[] = [];
    const sessionOf = (session: SmtpSession) => session.data.checks as InboundCheckSession;
    const enforce = (outcome: StageOutcome): void => {
      if (outcome.action !== 'continue') throw new SmtpReplyError(outcome.reply);
    };
    const server: SmtpServer = createServer({
      hostname: 'mx.test',
      ...connectionDefences(settings.connection),
      onConnect(session) {
        session.data.checks = checks.onConnect({ address: session.remoteAddress });
      },
      async onMailFrom(from, _parameters, session) {
        enforce(
          await sessionOf(session).onMailFrom({
            helo: session.clientHostname === null ? null : serializeDomain(session.clientHostname),
            sender: from === null ? null : `${from.localPart}@${serializeDomain(from.domain)}`,
            authenticatedUser: session.user?.username ?? null,
          }),
        );
      },
      async onRcptTo(to, _parameters, session) {
        const recipient =
          to === 'Postmaster' ? 'postmaster' : `${to.localPart}@${serializeDomain(to.domain)}`;
        enforce(await sessionOf(session).onRcptTo({ recipient }));
      },
      async onData(stream, session) {
        const chunks: Uint8Array[] = [];
        for await (const chunk of stream) chunks.push(chunk);
        const result = await sessionOf(session).afterData(Buffer.concat(chunks));
        sessionOf(session).reset();
        if (result.decision.action === 'reject' || result.decision.action === 'defer')
          throw new SmtpReplyError(result.decision.reply);
        results.push(result);
        return 'Queued';
      },
      onReset(session) {
        sessionOf(session)?.reset();
      },
    });
    const address = await server.listen({ host: '127.0.0.1', port: 0, tls: 'off' });
    return { port: address.port, results, close: () => server.close({ deadlineMs: 200 }) };
  }

  const send = (port: number, options: { from: string; header?: string; localAddress?: string }) =>
    runProcess(swaks, [
      '--server',
      `127.0.0.1:${port}`,
      '--local-interface',
      options.localAddress ?? '127.0.0.2',
      '--helo',
      'client.sock.test',
      '--from',
      options.from,
      '--to',
      'bob@mx.test',
      ...(options.header === undefined ? [] : ['--header', options.header]),
      '--timeout',
      '20',
    ]);

  it('greylists the first attempt at RCPT (451 4.7.1) and takes the retry after 300 s', async () => {
    nowMs = start;
    const listener = await startListener({ greylisting: { enabled: true } });
    try {
      const first = await send(listener.port, { from: 'alice@sock.test', header: 'From: alice@sock.test' });
      expect(first.stdout).toMatch(
        /<\*\* 451 4\.7\.1 Greylisted, please try again later \(first attempt, retry after 300 s\)/,
      );
      nowMs += 301_000;
      const retry = await send(listener.port, { from: 'alice@sock.test', header: 'From: alice@sock.test' });
      expect(retry.stdout).toMatch(/<- {2}250 2\.0\.0 Queued/);
      const [result] = listener.results;
      expect(result?.verdicts).toMatchObject({
        client: { address: '127.0.0.2', helo: 'client.sock.test' },
        spf: { mailFrom: { result: 'pass', domain: 'sock.test' } },
        greylist: { result: 'pass', reason: 'retried after 301 s' },
        dmarc: { result: 'pass' },
      });
      expect(Buffer.from(result?.message ?? []).toString('latin1')).toMatch(
        /^Authentication-Results: mx\.test;\r\n\tdkim=none;/,
      );
    } finally {
      await listener.close();
    }
  });

  it('refuses a DNSBL-listed client at RCPT and a p=reject spoof after DATA', async () => {
    const listener = await startListener({
      greylisting: { enabled: false },
      dnsLists: { blockLists: [{ zone: 'bl.test' }] },
    });
    try {
      const listed = await send(listener.port, { from: 'alice@sock.test', localAddress: '127.0.0.3' });
      expect(listed.stdout).toContain(
        '<** 554 5.7.1 Service unavailable; client [127.0.0.3] blocked using bl.test; see https://bl.test/127.0.0.3',
      );
      const spoofed = await send(listener.port, { from: 'alice@sock.test', header: 'From: ceo@strict.test' });
      expect(spoofed.stdout).toMatch(/<\*\* 550 5\.7\.1 Rejected by the DMARC policy of strict\.test/);
      expect(listener.results).toEqual([]);
    } finally {
      await listener.close();
    }
  });

  it('refuses an early talker when the pre-greeting pause is configured', async () => {
    const listener = await startListener({ connection: { greetingDelay: '300ms' } });
    try {
      const reply = await new Promise<string>((resolve, reject) => {
        const socket = connect({ host: '127.0.0.1', port: listener.port, localAddress: '127.0.0.2' });
        let received = '';
        socket.on('connect', () => socket.write('EHLO too.early\r\n'));
        socket.on('data', (chunk) => {
          received += chunk.toString('latin1');
          if (received.includes('\r\n')) {
            socket.destroy();
            resolve(received);
          }
        });
        socket.on('error', reject);
      });
      // RFC 5321 §3.1: 554 instead of the 220 greeting (no enhanced code on an opening reply).
      expect(reply).toMatch(/^554 mx\.test /);
    } finally {
      await listener.close();
    }
  });
});
