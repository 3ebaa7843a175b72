// API latency at 100,000 stored messages: list (first and deep pages) and search, p50/p95/p99,
// measured over HTTP against the built app.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NewMessage } from '../src/capture/mailbox-index.js';
import { parseMessage } from '../src/mime/parse-message.js';
import { createMessageId } from '../src/pipeline/message-id.js';
import { SqliteStorage } from '../src/sqlite/sqlite-storage.js';
import { freePort, percentile, saveResults, startOurApp, stopChild } from './support.js';

const messageCount = Number(process.env.BENCH_MESSAGES ?? 100_000);
const requestsPerQuery = 200;
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
const pick = () => words[Math.floor(random() * words.length)]!;
const sentence = (length: number) => Array.from({ length }, pick).join(' ');

function makeMessage(index: number, receivedAtMs: number): NewMessage {
  const subject = `${sentence(4)} #${index}`;
  const from = { name: `User ${index % 500}`, address: `user${index % 500}@example.com` };
  const to = [{ name: '', address: `team${index % 50}@example.org` }];
  const text = `${sentence(60)}\r\n${index % 1000 === 0 ? 'zebracorn rare token' : ''}`;
  const raw = new TextEncoder().encode(
    `From: ${from.name} <${from.address}>\r\nTo: ${to[0]!.address}\r\nSubject: ${subject}\r\n\r\n${text}\r\n`,
  );
  return {
    id: createMessageId(receivedAtMs),
    receivedAtMs,
    envelope: { from: from.address, to: [to[0]!.address], mailParameters: {}, rcptParameters: [{}] },
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
}

const dataDir = mkdtempSync(join(tmpdir(), 'bench-api-'));
const fillStarted = performance.now();
const store = new SqliteStorage({ parse: parseMessage, path: join(dataDir, 'messages.sqlite') });
const startMs = Date.now() - messageCount * 1000;
for (let offset = 0; offset < messageCount; offset += 2000) {
  const batch = Array.from({ length: Math.min(2000, messageCount - offset) }, (_, index) =>
    makeMessage(offset + index, startMs + (offset + index) * 1000),
  );
  await Promise.all(batch.map((message) => store.mailbox.insert(message))); // one group commit per batch
}
await store.close();
console.log(`filled ${messageCount} messages in ${((performance.now() - fillStarted) / 1000).toFixed(1)} s`);

const [smtpPort, httpPort] = [await freePort(), await freePort()];
const app = await startOurApp({ dataDir, smtpPort, httpPort });
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
    `api ${name.padEnd(34)} p50 ${result.p50Ms} ms  p95 ${result.p95Ms} ms  p99 ${result.p99Ms} ms`,
  );
  return result;
}

// Cursors for deep pages: walk once, keep every 20th.
const cursors: string[] = [];
let cursor: string | null = null;
for (let page = 0; page < 400; page += 1) {
  const query: string = cursor === null ? '' : `&cursor=${cursor}`;
  const body = (await (await fetch(`${base}/api/v1/messages?limit=50${query}`)).json()) as {
    nextCursor: string | null;
  };
  cursor = body.nextCursor;
  if (cursor === null) break;
  if (page % 20 === 0) cursors.push(cursor);
}
const firstPage = (await (await fetch(`${base}/api/v1/messages?limit=100`)).json()) as {
  messages: { id: string }[];
};
const ids = firstPage.messages.map((message) => message.id);
let turn = 0;
const results = [
  await timeRequests('list first page (50)', () => '/api/v1/messages?limit=50'),
  await timeRequests(
    'list deep pages (cursor)',
    () => `/api/v1/messages?limit=50&cursor=${cursors[turn++ % cursors.length]}`,
  ),
  await timeRequests('search common word', () => `/api/v1/messages?search=${words[turn++ % words.length]}`),
  await timeRequests('search two words', () => `/api/v1/messages?search=invoice%20payment`),
  await timeRequests('search rare word', () => '/api/v1/messages?search=zebracorn'),
  await timeRequests('search from: filter', () => `/api/v1/messages?search=from%3Auser${turn++ % 500}`),
  await timeRequests('search is:unread', () => '/api/v1/messages?search=is%3Aunread'),
  await timeRequests('get one message', () => `/api/v1/messages/${ids[turn++ % ids.length]}?markRead=false`),
];
await stopChild(app);
rmSync(dataDir, { recursive: true, force: true });
saveResults('api-latency', {
  date: new Date().toISOString(),
  node: process.version,
  messages: messageCount,
  results,
});
