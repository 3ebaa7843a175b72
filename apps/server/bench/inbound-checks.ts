// What each inbound check costs per message, through the checks' entry point (connect → MAIL →
// RCPT → after DATA), with DNS answered by the local stub in a child process (its CPU is not ours).
// Configurations add one check at a time; each runs BENCH_MESSAGES messages (1 KB, DKIM-signed
// RSA-2048 by our signer), CONCURRENCY at a time, after a warm-up. Greylisting runs in its steady
// state (every triplet already passed), in a SQLite file database like the app's.
//   node bench/run.mjs checks
//   BENCH_MESSAGES=4000 node bench/run.mjs checks
//   BENCH_GREYLIST_FSYNC=1 node bench/run.mjs checks   greylisting on the fsync-per-commit connection
import { fork } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
// The stub by path: the bench bundle keeps packages external, and test-support ships only sources.
import { dnsblName, startDnsStub, type ZoneEntry } from '../../../tooling/test-support/src/dns-stub.js';
import { inboundChecksSchema } from '../src/config/inbound-checks-schema.js';
import { dkimPublicKeyValue } from '../src/dkim/dkim-keys.js';
import { signMessage } from '../src/dkim/dkim-signer.js';
import { createDnsLookup } from '../src/inbound/checks/dns-lookup.js';
import { InboundChecks } from '../src/inbound/checks/inbound-checks.js';
import { parseMessage } from '../src/mime/parse-message.js';
import { SqliteDatabase } from '../src/sqlite/sqlite-database.js';
import { openGreylistConnection, SqliteGreylistStore } from '../src/sqlite/sqlite-greylist-store.js';
import { saveResults } from './support.js';

if (process.env.BENCH_ROLE === 'dns') {
  // The child: serve the zone the parent sends, report the port.
  process.once('message', async (zone: Record<string, ZoneEntry>) => {
    const stub = await startDnsStub(zone);
    process.send?.({ address: stub.address });
  });
} else {
  await runBenchmark();
}

async function runBenchmark(): Promise<void> {
  const totalMessages = Number(process.env.BENCH_MESSAGES ?? 2000);
  const concurrency = 10;
  const key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const client = '192.0.2.10';
  const zone: Record<string, ZoneEntry> = {
    'sender.test': { txt: ['v=spf1 ip4:192.0.2.0/24 -all'] },
    'client.test': { txt: ['v=spf1 ip4:192.0.2.0/24 -all'] },
    '_dmarc.sender.test': { txt: ['v=DMARC1; p=reject'] },
    'rsa1._domainkey.sender.test': { txt: [`v=DKIM1; k=rsa; p=${dkimPublicKeyValue(key)}`] },
    [dnsblName('192.0.2.200', 'bl.test')]: { a: ['127.0.0.2'] },
  };
  const dnsChild = fork(fileURLToPath(import.meta.url), [], { env: { ...process.env, BENCH_ROLE: 'dns' } });
  const dnsAddress = await new Promise<string>((resolve) => {
    dnsChild.once('message', (reply: { address: string }) => resolve(reply.address));
    dnsChild.send(zone);
  });
  const directory = mkdtempSync(join(tmpdir(), 'inbound-bench-'));
  const database = new SqliteDatabase({
    path: join(directory, 'bench.sqlite'),
    parse: parseMessage,
    writerScript: null,
  });
  const greylistConnection = openGreylistConnection(database.path);
  const greylistStore = new SqliteGreylistStore(
    process.env.BENCH_GREYLIST_FSYNC === '1' ? database.connection : greylistConnection,
  );
  const lookup = createDnsLookup({ servers: [dnsAddress], timeoutMs: 2000, tries: 1 });
  let offsetMs = 0;
  const now = () => Date.now() + offsetMs;

  const body = `${'The quick brown fox jumps over the lazy dog. '.repeat(18)}\r\n`;
  const raw = Buffer.from(
    `From: alice@sender.test\r\nTo: bob@mx.test\r\nSubject: bench\r\nDate: Sun, 6 Dec 2026 10:00:00 +0000\r\nMessage-ID: <b@sender.test>\r\n\r\n${body}`,
  );
  const signed = Buffer.concat([
    Buffer.from(
      signMessage(raw, {
        domain: 'sender.test',
        keys: [{ selector: 'rsa1', privateKey: key }],
        now: Date.now(),
      }),
    ),
    raw,
  ]);

  const off = { spf: { enabled: false }, dkim: { enabled: false }, greylisting: { enabled: false } };
  const lists = {
    dnsLists: { blockLists: [{ zone: 'bl.test' }, { zone: 'bl2.test' }], allowLists: [{ zone: 'wl.test' }] },
  };
  const configurations = [
    { name: 'none (baseline)', input: off },
    { name: '+ DNS lists (2 block, 1 allow)', input: { ...off, ...lists } },
    { name: '+ SPF (HELO and MAIL FROM)', input: { ...off, ...lists, spf: { enabled: true } } },
    {
      name: '+ greylisting (SQLite)',
      input: { ...off, ...lists, spf: { enabled: true }, greylisting: { enabled: true } },
    },
    { name: '+ DKIM, ARC, DMARC (all checks)', input: { ...lists, greylisting: { enabled: true } } },
  ];

  const results: Record<string, unknown>[] = [];
  for (const configuration of configurations) {
    const checks = new InboundChecks({
      settings: inboundChecksSchema.parse(configuration.input),
      authservId: 'mx.test',
      hostname: 'mx.test',
      lookup,
      greylistStore,
      now,
    });
    const one = async (index: number) => {
      const session = checks.onConnect({ address: client });
      await session.onMailFrom({ helo: 'client.test', sender: 'alice@sender.test', authenticatedUser: null });
      const outcome = await session.onRcptTo({ recipient: `user${index % 100}@mx.test` });
      if (outcome.action !== 'continue') return outcome.action;
      return (await session.afterData(signed)).decision.action;
    };
    const run = async (count: number) => {
      const actions = new Map<string, number>();
      let next = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < count) {
            const action = await one(next++);
            actions.set(action, (actions.get(action) ?? 0) + 1);
          }
        }),
      );
      return actions;
    };
    // Warm-up: greylists the 100 triplets, then their retries pass from here on.
    await run(200);
    offsetMs += 301_000;
    await run(200);
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const actions = await run(totalMessages);
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const result = {
      configuration: configuration.name,
      messagesPerSecond: Math.round(totalMessages / seconds),
      cpuMsPerMessage: Number(((cpu.user + cpu.system) / 1000 / totalMessages).toFixed(3)),
      actions: Object.fromEntries(actions),
    };
    results.push(result);
    console.log(JSON.stringify(result));
  }
  saveResults('inbound-checks', { totalMessages, concurrency, messageBytes: signed.length, results });
  dnsChild.kill();
  greylistConnection.close();
  await database.close();
  rmSync(directory, { recursive: true, force: true });
}
