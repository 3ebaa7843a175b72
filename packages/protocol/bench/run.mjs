#!/usr/bin/env node
// @smtp/protocol benchmarks: `pnpm bench` (in this package, after `pnpm build`). Speed is measured here,
// never in timed unit tests. Prints a table and writes bench/results.json. Single-threaded: one core.
import { writeFileSync } from 'node:fs';
import { DotDecoder, DotEncoder, parseCommand, ServerSession } from '../dist/index.js';

const encoder = new TextEncoder();
const results = [];

/**
 * Runs `body` repeatedly after a warm-up, in `rounds` rounds of about `durationMs / rounds` each, and
 * returns the operations per second of the best round: this machine's cores are shared, and the best
 * round is the one least disturbed by other processes.
 */
function measure(body, { durationMs = 2000, batch = 1000, rounds = 5 } = {}) {
  for (let index = 0; index < batch * 5; index += 1) body();
  let best = 0;
  for (let round = 0; round < rounds; round += 1) {
    globalThis.gc?.();
    let operations = 0;
    const start = process.hrtime.bigint();
    const deadline = start + BigInt(Math.round(durationMs / rounds)) * 1_000_000n;
    let now = start;
    while (now < deadline) {
      for (let index = 0; index < batch; index += 1) body();
      operations += batch;
      now = process.hrtime.bigint();
    }
    best = Math.max(best, operations / (Number(now - start) / 1e9));
  }
  return best;
}

function record(name, value, unit, target) {
  results.push({ name, value, unit, target, ratioToTarget: value / target });
}

// 1. Command parsing: a typical mix of what a server reads.
const commands = [
  'EHLO client.example.org',
  'MAIL FROM:<alice@example.org> SIZE=1024 BODY=8BITMIME',
  'RCPT TO:<bob@example.net>',
  'RCPT TO:<carol@example.net> NOTIFY=SUCCESS,FAILURE',
  'DATA',
  'RSET',
  'NOOP',
  'QUIT',
].map((line) => encoder.encode(line));
let commandIndex = 0;
const commandsPerSecond = measure(() => {
  const result = parseCommand(commands[commandIndex]);
  if (!result.ok) throw new Error('bench input must parse');
  commandIndex = (commandIndex + 1) % commands.length;
});
record('parseCommand, typical commands', commandsPerSecond, 'commands/s', 2_000_000);

// 2. DATA codecs on 1 MiB chunks of ordinary text (lines of ~76 chars, some starting with a dot).
const line = 'The quick brown fox jumps over the lazy dog, then reads RFC 5321 section 4.5.2 again.\r\n';
const text = encoder.encode(`${line}${'.dotted line\r\n'}`.repeat(Math.ceil((1 << 20) / (line.length + 14))));
const mebibyteText = text.subarray(0, 1 << 20);
const stuffedChunks = [];
{
  const stuffer = new DotEncoder();
  for (const part of stuffer.encode(mebibyteText)) stuffedChunks.push(part);
}
const stuffed = concat(stuffedChunks);
const encodeRate = measure(
  () => {
    const dotEncoder = new DotEncoder();
    dotEncoder.encode(mebibyteText);
  },
  { batch: 4 },
);
record('DotEncoder (dot-stuff), 1 MiB chunks', (encodeRate * mebibyteText.byteLength) / 1e9, 'GB/s', 1);
const decodeRate = measure(
  () => {
    const dotDecoder = new DotDecoder();
    dotDecoder.decode(stuffed);
  },
  { batch: 4 },
);
record('DotDecoder (dot-unstuff), 1 MiB chunks', (decodeRate * stuffed.byteLength) / 1e9, 'GB/s', 1);

// 3. A whole pipelined server-side transaction: EHLO, MAIL, 2×RCPT, DATA with 1 KB, QUIT.
const body = `Subject: bench\r\n\r\n${'x'.repeat(70)}\r\n`.repeat(14).slice(0, 1024);
const transaction = encoder.encode(
  'EHLO client.example.org\r\nMAIL FROM:<alice@example.org>\r\nRCPT TO:<bob@example.net>\r\n' +
    `RCPT TO:<carol@example.net>\r\nDATA\r\n${body}\r\n.\r\nQUIT\r\n`,
);
// One options object for every session, as a server passes the same options to each connection:
// ServerSession derives its profile (resolved options, EHLO reply bytes) once per options object.
const serverOptions = { hostname: 'mx.example.net' };
const transactionsPerSecond = measure(
  () => {
    const session = new ServerSession(serverOptions);
    session.greet();
    session.receive(transaction);
    for (let event = session.nextEvent(); event !== null; event = session.nextEvent()) {
      if (session.pending) session.accept();
    }
    session.takeOutput();
  },
  { batch: 200 },
);
record('ServerSession, pipelined transaction (1 KB)', transactionsPerSecond, 'transactions/s', 200_000);

function concat(parts) {
  const total = parts.reduce((sum, part) => sum + part.byteLength, 0);
  const joined = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.byteLength;
  }
  return joined;
}

const format = (value) => (value >= 1000 ? Math.round(value).toLocaleString('en-US') : value.toFixed(2));
console.log('\n@smtp/protocol benchmarks (one core, best of 5 rounds, node', process.version, ')\n');
console.log('| benchmark | result | unit | target | ratio to target |');
console.log('|---|---:|---|---:|---:|');
for (const result of results) {
  console.log(
    `| ${result.name} | ${format(result.value)} | ${result.unit} | ${format(result.target)} | ${result.ratioToTarget.toFixed(2)}× |`,
  );
}
const output = new URL('./results.json', import.meta.url);
writeFileSync(
  output,
  `${JSON.stringify({ node: process.version, date: new Date().toISOString(), results }, null, 2)}\n`,
);
console.log(`\nwritten: ${output.pathname}`);
