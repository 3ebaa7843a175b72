// Queue API latency with 100,000 queued messages (one recipient each, at 50 domains): deferred with
// a due time a month away (most, each with one attempt on record), held, failed and delivered, so
// none is delivered during the run. p50/p95/p99 over HTTP against the built app in MTA mode.
//   node bench/run.mjs queue-api
//   BENCH_MESSAGES=20000 node bench/run.mjs queue-api
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { parseMessage } from '../src/mime/parse-message.js';
import { createMessageId } from '../src/pipeline/message-id.js';
import { deliveryRows } from '../src/queue/router.js';
import { SqliteStorage } from '../src/sqlite/sqlite-storage.js';
import { startCountingSink } from './counting-sink.js';
import { sendOneMessage } from './one-message.js';
import { appRoot, freePort, percentile, saveResults, stopChild, waitForPort } from './support.js';

const messageCount = Number(process.env.BENCH_MESSAGES ?? 100_000);
const requestsPerQuery = 200;
const domainCount = 50;
const dayMs = 24 * 60 * 60 * 1000;

/** Which state message `index` is in: 85 % deferred, 10 % held, 4 % failed, 1 % delivered. */
function stateOf(index: number): 'deferred' | 'held' | 'failed' | 'delivered' {
  const slot = index % 100;
  return slot < 85 ? 'deferred' : slot < 95 ? 'held' : slot < 99 ? 'failed' : 'delivered';
}

const deferredReply = JSON.stringify({
  code: 451,
  enhanced: '4.4.1',
  lines: ['4.4.1 mx.example: connection timed out, try again later'],
});

const dataDir = mkdtempSync(join(tmpdir(), 'bench-queue-api-'));
const databasePath = join(dataDir, 'messages.sqlite');
const fillStarted = performance.now();
const now = Date.now();
// The spool's write path: each message and its delivery row commit together, one group commit
// per batch, exactly as the MTA's queue sink stores accepted mail.
const store = new SqliteStorage({ parse: parseMessage, path: databasePath });
for (let offset = 0; offset < messageCount; offset += 2000) {
  const batch = Array.from({ length: Math.min(2000, messageCount - offset) }, (_, batchIndex) => {
    const index = offset + batchIndex;
    const receivedAtMs = now - (messageCount - index) * 100;
    const id = createMessageId(receivedAtMs);
    const envelope = {
      from: `app${index % 20}@sender.test`,
      to: [`user${index}@d${index % domainCount}.example`],
      mailParameters: {},
      rcptParameters: [{}],
    };
    const [route] = deliveryRows({
      messageId: id,
      receivedAtMs,
      envelope,
      postmasterDomain: 'mta.bench.test',
    });
    const state = stateOf(index);
    const values = {
      ...route?.values,
      ...(state === 'deferred'
        ? { status: 'queued', due_at_ms: now + 30 * dayMs, attempts: 1, fencing: 1 }
        : state === 'held'
          ? { status: 'held', due_at_ms: null }
          : state === 'failed'
            ? // NOTIFY=NEVER: the app's startup would otherwise send 4,000 failure reports.
              { status: 'failed', due_at_ms: null, failure_cause: 'rejected', notify: 'NEVER', attempts: 1 }
            : { status: 'delivered', due_at_ms: null, attempts: 1 }),
      ...(state === 'deferred' ? { last_reply_json: deferredReply, last_status: '4.4.1' } : {}),
    };
    const raw = Buffer.from(
      `From: ${envelope.from}\r\nTo: ${envelope.to[0]}\r\nSubject: queued #${index}\r\n\r\n${'x'.repeat(900)}\r\n`,
    );
    return store.spool.receive(raw, {
      id,
      receivedAtMs,
      envelope,
      session: null,
      companionRows: [{ table: 'deliveries', values }],
    });
  });
  await Promise.all(batch);
}
await store.close();
// Each deferred delivery has its attempt on record, transcript included (what the detail shows).
// The inbox's parse of these messages is marked done: the benchmark is about the queue, and the
// app's startup would otherwise re-parse 100,000 messages while we measure.
const database = new Database(databasePath);
database.exec(`
  INSERT INTO delivery_attempts (delivery_id, fencing, started_at_ms, ended_at_ms, mx_host, tls, outcome,
    status, rule, reply_json, error, transcript)
  SELECT id, 1, arrived_at_ms + 1000, arrived_at_ms + 31000, 'mx.' || domain, 0, 'deferred', '4.4.1',
    'temporary', last_reply_json, NULL,
    'S: 220 mx.' || domain || ' ESMTP' || char(10) || 'C: EHLO mta.bench.test' || char(10) || 'S: 250 ok' ||
    char(10) || 'C: MAIL FROM:<' || sender || '>' || char(10) || 'S: 451 4.4.1 try again later'
  FROM deliveries WHERE status = 'queued';
  UPDATE messages SET is_parsed = 1;
`);
database.close();
console.log(
  `filled ${messageCount} queued messages in ${((performance.now() - fillStarted) / 1000).toFixed(1)} s`,
);

const [smtpPort, httpPort] = [await freePort(), await freePort()];
// New mail to bench.test goes to a counting sink: how a big deferred backlog slows fresh mail.
const sink = await startCountingSink();
const configPath = join(dataDir, 'smtp-app.yaml');
writeFileSync(
  configPath,
  JSON.stringify({
    mode: 'mta',
    http: { host: '127.0.0.1', port: httpPort },
    storage: { dataDir },
    log: { level: 'warn' },
    mta: {
      hostname: 'mta.bench.test',
      relayNetworks: ['127.0.0.1/32'],
      listeners: [{ role: 'relay', host: '127.0.0.1', port: smtpPort }],
      transports: { 'bench.test': `127.0.0.1:${sink.port}` },
    },
  }),
);
const app = spawn(process.execPath, [join(appRoot, 'dist/main.js')], {
  env: { ...process.env, SMTP_APP_CONFIG: configPath },
  stdio: ['ignore', 'ignore', 'inherit'],
});
await waitForPort(httpPort, 60_000);
const base = `http://127.0.0.1:${httpPort}`;

async function timeRequests(name: string, paths: () => string): Promise<Record<string, number | string>> {
  for (let index = 0; index < 20; index += 1) await (await fetch(base + paths())).arrayBuffer(); // warm-up
  const timings: number[] = [];
  for (let index = 0; index < requestsPerQuery; index += 1) {
    const path = paths();
    const started = performance.now();
    const response = await fetch(base + path);
    await response.arrayBuffer();
    timings.push(performance.now() - started);
    if (!response.ok) throw new Error(`${path}: ${response.status}`);
  }
  timings.sort((a, b) => a - b);
  const result = {
    query: name,
    p50Ms: Number(percentile(timings, 0.5).toFixed(2)),
    p95Ms: Number(percentile(timings, 0.95).toFixed(2)),
    p99Ms: Number(percentile(timings, 0.99).toFixed(2)),
  };
  console.log(
    `queue api ${name.padEnd(36)} p50 ${result.p50Ms} ms  p95 ${result.p95Ms} ms  p99 ${result.p99Ms} ms`,
  );
  return result;
}

interface QueuePage {
  deliveries: { id: number; messageId: string }[];
  nextAfter: number | null;
}
const page = async (path: string) => (await (await fetch(base + path)).json()) as QueuePage;
// Deep pages of the held deliveries: walk once, keep every 10th cursor.
const heldCursors: number[] = [];
let after: number | null = 0;
for (let walked = 0; after !== null && walked < 100; walked += 1) {
  const body: QueuePage = await page(`/api/v1/queue?status=held&limit=50&after=${after}`);
  after = body.nextAfter;
  if (after !== null && walked % 10 === 0) heldCursors.push(after);
}
const messageIds = (await page('/api/v1/queue?limit=1000')).deliveries.map((delivery) => delivery.messageId);
let turn = 0;
const results = [
  await timeRequests('first page (100)', () => '/api/v1/queue'),
  await timeRequests('first page, status=queued (50)', () => '/api/v1/queue?status=queued&limit=50'),
  await timeRequests('first page, status=held (50)', () => '/api/v1/queue?status=held&limit=50'),
  await timeRequests('first page, status=failed (50)', () => '/api/v1/queue?status=failed&limit=50'),
  // No delivery is in flight: the worst case for a filter that scans instead of seeking.
  await timeRequests('first page, status=in-flight (none)', () => '/api/v1/queue?status=in-flight&limit=50'),
  await timeRequests('deep pages, status=held (after=)', () => {
    return `/api/v1/queue?status=held&limit=50&after=${heldCursors[turn++ % heldCursors.length]}`;
  }),
  await timeRequests('first page, domain filter (50)', () => {
    return `/api/v1/queue?domain=d${turn++ % domainCount}.example&limit=50`;
  }),
  await timeRequests('first page, unknown domain (none)', () => '/api/v1/queue?domain=none.example&limit=50'),
  await timeRequests('one message with its attempts', () => {
    return `/api/v1/queue/messages/${messageIds[turn++ % messageIds.length]}`;
  }),
  await timeRequests('summary (counts by status)', () => '/api/v1/queue/summary'),
];

// Fresh mail with the backlog in place, one message at a time: the time to the 250 (connection
// included) and from the 250 to the sink. Each pass wakes the scheduler, which claims due
// deliveries and looks up the next due time: queries that must not read the whole backlog.
const toAccepted: number[] = [];
const toDelivered: number[] = [];
for (let index = 0; index < 100; index += 1) {
  const token = `fresh-${index}`;
  const arrival = sink.arrivalOf(token);
  const started = performance.now();
  const acceptedAt = await sendOneMessage({ port: smtpPort, token, recipient: 'sink@bench.test' });
  toAccepted.push(acceptedAt - started);
  toDelivered.push((await arrival) - acceptedAt);
}
const freshMail = Object.fromEntries(
  Object.entries({ connectTo250: toAccepted, from250ToDelivery: toDelivered }).map(([name, values]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return [
      name,
      {
        p50Ms: Number(percentile(sorted, 0.5).toFixed(2)),
        p95Ms: Number(percentile(sorted, 0.95).toFixed(2)),
      },
    ];
  }),
);
for (const [name, figures] of Object.entries(freshMail))
  console.log(`queue api fresh mail ${name.padEnd(31)} p50 ${figures.p50Ms} ms  p95 ${figures.p95Ms} ms`);
await stopChild(app);
await sink.close();
rmSync(dataDir, { recursive: true, force: true });
saveResults('queue-api-latency', {
  date: new Date().toISOString(),
  node: process.version,
  messages: messageCount,
  results,
  freshMailWithBacklog: freshMail,
});
