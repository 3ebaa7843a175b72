// Capture mode's API latency on PostgreSQL vs SQLite, the same 10,000 messages in each: list (first
// and deep pages) and search, p50/p95, over HTTP against the built app. PostgreSQL is a private
// server from the test support (initdb + pg_ctl, fsync on) on this machine.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres } from '@smtp/test-support';
import type { MailboxEvent } from '../src/capture/mailbox-event.js';
import type { MailboxIndex, NewMessage } from '../src/capture/mailbox-index.js';
import { InProcessEventBus } from '../src/events/in-process-event-bus.js';
import { parseMessage } from '../src/mime/parse-message.js';
import { createMessageId } from '../src/pipeline/message-id.js';
import { PostgresCaptureStorage } from '../src/postgres/postgres-capture-storage.js';
import { SqliteStorage } from '../src/sqlite/sqlite-storage.js';
import { freePort, percentile, saveResults, startOurApp, stopChild } from './support.js';

const messageCount = Number(process.env.BENCH_MESSAGES ?? 10_000);
const requestsPerQuery = Number(process.env.BENCH_REQUESTS ?? 200);
const words = (
  'account invoice order shipping delivery password reset welcome newsletter report weekly monthly ' +
  'alert security login verify confirm payment receipt refund subscription trial upgrade project ' +
  'meeting agenda notes review release deploy build failure success warning error ticket support'
).split(' ');

let seed = 42;
const random = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
  return seed / 2_147_483_648;
};
const pick = () => words[Math.floor(random() * words.length)] as string;
const sentence = (length: number) => Array.from({ length }, pick).join(' ');

/** The same messages for both stores: built once. */
const startMs = Date.now() - messageCount * 1000;
const messages: NewMessage[] = Array.from({ length: messageCount }, (_, index) => {
  const receivedAtMs = startMs + index * 1000;
  const subject = `${sentence(4)} #${index}`;
  const from = { name: `User ${index % 500}`, address: `user${index % 500}@example.com` };
  const to = [{ name: '', address: `team${index % 50}@example.org` }];
  const text = `${sentence(60)}\r\n${index % 1000 === 0 ? 'zebracorn rare token' : ''}`;
  const raw = new TextEncoder().encode(
    `From: ${from.name} <${from.address}>\r\nTo: ${to[0]?.address}\r\nSubject: ${subject}\r\n\r\n${text}\r\n`,
  );
  return {
    id: createMessageId(receivedAtMs),
    receivedAtMs,
    envelope: { from: from.address, to: [to[0]?.address ?? ''], mailParameters: {}, rcptParameters: [{}] },
    session: null,
    raw,
    subject,
    from,
    to,
    cc: [],
    bcc: [],
    replyTo: [],
    messageIdHeader: null,
    dateHeaderMs: null,
    headers: [{ name: 'Subject', value: subject }],
    text,
    html: null,
    attachments: [],
  };
});

async function fill(mailbox: MailboxIndex, batchSize: number): Promise<number> {
  const started = performance.now();
  for (let offset = 0; offset < messages.length; offset += batchSize)
    await Promise.all(messages.slice(offset, offset + batchSize).map((message) => mailbox.insert(message)));
  return (performance.now() - started) / 1000;
}

interface QueryResult {
  readonly query: string;
  readonly p50Ms: number;
  readonly p95Ms: number;
}

async function measure(base: string): Promise<QueryResult[]> {
  const timeRequests = async (name: string, path: () => string): Promise<QueryResult> => {
    for (let index = 0; index < 20; index += 1) await (await fetch(base + path())).arrayBuffer(); // warm-up
    const timings: number[] = [];
    for (let index = 0; index < requestsPerQuery; index += 1) {
      const url = base + path();
      const started = performance.now();
      const response = await fetch(url);
      await response.arrayBuffer();
      timings.push(performance.now() - started);
      if (!response.ok) throw new Error(`${url}: ${response.status}`);
    }
    timings.sort((a, b) => a - b);
    return {
      query: name,
      p50Ms: Number(percentile(timings, 0.5).toFixed(2)),
      p95Ms: Number(percentile(timings, 0.95).toFixed(2)),
    };
  };
  // Cursors for deep pages: walk once, keep every 10th.
  const cursors: string[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 200; page += 1) {
    const query: string = cursor === null ? '' : `&cursor=${cursor}`;
    const body = (await (await fetch(`${base}/api/v1/messages?limit=50${query}`)).json()) as {
      nextCursor: string | null;
    };
    cursor = body.nextCursor;
    if (cursor === null) break;
    if (page % 10 === 0) cursors.push(cursor);
  }
  let turn = 0;
  return [
    await timeRequests('list first page (50)', () => '/api/v1/messages?limit=50'),
    await timeRequests(
      'list deep pages (cursor)',
      () => `/api/v1/messages?limit=50&cursor=${cursors[turn++ % cursors.length]}`,
    ),
    await timeRequests('search common word', () => `/api/v1/messages?search=${words[turn++ % words.length]}`),
    await timeRequests('search two words', () => '/api/v1/messages?search=invoice%20payment'),
    await timeRequests('search rare word', () => '/api/v1/messages?search=zebracorn'),
    await timeRequests('search from: filter', () => `/api/v1/messages?search=from%3Auser${turn++ % 500}`),
    await timeRequests('search -word (exclusion)', () => '/api/v1/messages?search=-invoice'),
    await timeRequests('search is:unread', () => '/api/v1/messages?search=is%3Aunread'),
  ];
}

async function runApp(dataDir: string, storageUrl?: string): Promise<QueryResult[]> {
  const [smtpPort, httpPort] = [await freePort(), await freePort()];
  const app = await startOurApp({
    dataDir,
    smtpPort,
    httpPort,
    ...(storageUrl === undefined ? {} : { storageUrl }),
  });
  try {
    return await measure(`http://127.0.0.1:${httpPort}`);
  } finally {
    await stopChild(app);
  }
}

// SQLite
const sqliteDir = mkdtempSync(join(tmpdir(), 'bench-capture-sqlite-'));
const sqlite = new SqliteStorage({ parse: parseMessage, path: join(sqliteDir, 'messages.sqlite') });
const sqliteFillSeconds = await fill(sqlite.mailbox, 2000); // one group commit per batch
await sqlite.close();
console.log(`sqlite: filled ${messageCount} messages in ${sqliteFillSeconds.toFixed(1)} s`);
const sqliteResults = await runApp(sqliteDir);
rmSync(sqliteDir, { recursive: true, force: true });

// PostgreSQL
const server = await startPostgres();
const postgresDir = mkdtempSync(join(tmpdir(), 'bench-capture-pg-'));
let postgresResults: QueryResult[];
let postgresFillSeconds: number;
try {
  const url = await server.createDatabase('capture_bench');
  const postgres = await PostgresCaptureStorage.open({
    url,
    parse: parseMessage,
    localEvents: new InProcessEventBus<MailboxEvent>(),
    onError: (error) => console.error(error),
  });
  postgresFillSeconds = await fill(postgres.mailbox, 50); // the pool's 10 connections, busy
  await postgres.close();
  console.log(`postgres: filled ${messageCount} messages in ${postgresFillSeconds.toFixed(1)} s`);
  postgresResults = await runApp(postgresDir, url);
} finally {
  await server.stop();
  rmSync(postgresDir, { recursive: true, force: true });
}

console.log(`\ncapture API at ${messageCount} messages, ${requestsPerQuery} requests each (ms)`);
console.log(
  `${'query'.padEnd(28)} ${'SQLite p50'.padStart(11)} ${'p95'.padStart(7)}  ${'PostgreSQL p50'.padStart(15)} ${'p95'.padStart(7)}`,
);
for (const [index, sqliteResult] of sqliteResults.entries()) {
  const postgresResult = postgresResults[index];
  console.log(
    `${sqliteResult.query.padEnd(28)} ${String(sqliteResult.p50Ms).padStart(11)} ${String(sqliteResult.p95Ms).padStart(7)}  ${String(postgresResult?.p50Ms).padStart(15)} ${String(postgresResult?.p95Ms).padStart(7)}`,
  );
}
saveResults('capture-pg-latency', {
  date: new Date().toISOString(),
  node: process.version,
  messages: messageCount,
  requestsPerQuery,
  fillSeconds: { sqlite: sqliteFillSeconds, postgres: postgresFillSeconds },
  sqlite: sqliteResults,
  postgres: postgresResults,
});
