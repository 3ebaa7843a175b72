#!/usr/bin/env node
// @smtp/client versus nodemailer's SMTP transport, same run, same peer: Postfix's smtp-sink on loopback.
// Scenarios: 5,000 × 1 KB and 200 × 1 MB raw messages, pooled (10 connections) and unpooled (one connection
// per message, 10 in flight); and composed messages (text + HTML + one attachment, composed for every send:
// our compose() against nodemailer's sendMail() with the same fields), 5,000 × 1 KB and 200 × 1 MB, pooled.
// Reports messages/s, MB/s and client CPU time per message (process.cpuUsage: smtp-sink runs in its own
// process), prints the ratios and writes bench/results/versus-nodemailer.json. Then memory: one message
// with a 50 MB attachment read from a stream, sent by each contender in a fresh child process, reporting
// how far its peak RSS rose above the RSS before the send (streaming keeps that far below 50 MB).
//
// Noise: every scenario runs BENCH_REPETITIONS times (default 5), alternating which peer goes first, and
// the table shows the median of each figure; "paired" is the range of the per-repetition ratios.
//
// Run: pnpm bench (bundles src/ with @smtp/protocol from source into bench/dist first; see
// bench/tsup.config.ts). Needs /usr/sbin/smtp-sink (apt-get install postfix). BENCH_ONLY=composed (any
// part of a scenario name, or "memory") runs only the matching scenarios.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect as netConnect } from 'node:net';
import { cpus } from 'node:os';
import { basename, resolve as resolvePath } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import nodemailer from 'nodemailer';

const nodemailerVersion = JSON.parse(
  readFileSync(fileURLToPath(import.meta.resolve('nodemailer/package.json')), 'utf8'),
).version;

// BENCH_CLIENT: another build of @smtp/client to measure (e.g. one bundled from an older commit).
const clientModule = process.env.BENCH_CLIENT
  ? pathToFileURL(resolvePath(process.env.BENCH_CLIENT)).href
  : new URL('./dist/client.js', import.meta.url).href;
const { compose, createClient } = await import(clientModule);

const smtpSinkPath = '/usr/sbin/smtp-sink';
const repetitions = Number(process.env.BENCH_REPETITIONS ?? 5);
const scale = Number(process.env.BENCH_SCALE ?? 1);
const only = process.env.BENCH_ONLY ?? '';

if (!existsSync(smtpSinkPath)) {
  console.error(`${smtpSinkPath} is missing: install it with \`apt-get install postfix\``);
  process.exit(1);
}

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function startSink() {
  const port = await freePort();
  // -m: allow the connection count the unpooled runs need; no dump: measure the client, not the disk.
  const child = spawn(smtpSinkPath, ['-u', 'nobody', '-m', '1024', `127.0.0.1:${port}`, '1024'], {
    stdio: 'ignore',
  });
  for (let attempt = 0; attempt < 100; attempt++) {
    const ok = await new Promise((resolve) => {
      const socket = netConnect(port, '127.0.0.1');
      socket.once('connect', () => resolve(socket.destroy() || true));
      socket.once('error', () => resolve(false));
    });
    if (ok) return { port, stop: () => child.kill('SIGTERM') };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill('SIGKILL');
  throw new Error('smtp-sink did not start');
}

function makeMessage(bytes) {
  const header =
    'From: bench@example.com\r\nTo: sink@example.com\r\nSubject: bench\r\nMessage-ID: <bench@example.com>\r\n\r\n';
  const line = `${'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(2)}\r\n`; // 74 bytes
  const body = line.repeat(Math.ceil((bytes - header.length) / line.length));
  return Buffer.from(`${(header + body).slice(0, bytes - 2)}\r\n`);
}

/** Runs `send` for `count` messages with at most `inFlight` at once (Infinity: all queued at once). */
async function drive(count, inFlight, send) {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      await send();
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, worker));
}

const contenders = {
  '@smtp/client': (port, pooled) => {
    const client = createClient({
      host: '127.0.0.1',
      port,
      starttls: 'never',
      name: 'bench.example.com',
      pool: pooled ? { maxConnections: 10, maxMessagesPerConnection: Number.POSITIVE_INFINITY } : false,
    });
    return {
      send: (message) => client.send({ from: 'bench@example.com', to: 'sink@example.com', message }),
      sendComposed: (fields) => client.send(compose(fields)),
      close: () => client.close(),
    };
  },
  nodemailer: (port, pooled) => {
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port,
      secure: false,
      ignoreTLS: true,
      name: 'bench.example.com',
      ...(pooled ? { pool: true, maxConnections: 10, maxMessages: Number.POSITIVE_INFINITY } : {}),
    });
    return {
      send: (message) =>
        transport.sendMail({
          envelope: { from: 'bench@example.com', to: ['sink@example.com'] },
          raw: message,
        }),
      sendComposed: (fields) => transport.sendMail(fields),
      close: async () => transport.close(),
    };
  },
};

/**
 * Text + HTML + one attachment totalling about `bytes` before encoding. The same fields go to compose()
 * and to nodemailer's sendMail(); each send composes its message afresh, as an application does.
 */
function makeComposeFields(bytes) {
  const paragraph = 'Dear customer, your order has shipped and will arrive within three working days. ';
  const textBytes = Math.min(2048, Math.round(bytes / 4));
  const text = paragraph.repeat(Math.ceil(textBytes / paragraph.length)).slice(0, textBytes);
  const html = `<html><body><p>${text}</p></body></html>`;
  const attachmentBytes = Math.max(64, bytes - text.length - html.length);
  const attachment = Buffer.alloc(attachmentBytes);
  // Incompressible, repeatable bytes: what an attachment looks like to base64.
  let state = 0x2545f491;
  for (let index = 0; index < attachmentBytes; index++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    attachment[index] = state & 0xff;
  }
  return {
    from: 'bench@example.com',
    to: 'sink@example.com',
    subject: 'Your order has shipped',
    text,
    html,
    attachments: [{ filename: 'invoice.pdf', contentType: 'application/pdf', content: attachment }],
  };
}

async function measure(name, port, pooled, scenario) {
  const contender = contenders[name](port, pooled);
  const send =
    scenario.kind === 'raw'
      ? () => contender.send(scenario.message)
      : () => contender.sendComposed(scenario.fields);
  const { count, bytes } = scenario;
  // Warm up the JIT and the connections: about 2 MB of messages, at least 20 (a cold first run would
  // otherwise measure the compiler more than the client).
  const warmUpCount = Math.min(count, Math.max(20, Math.round((2 * 1024 * 1024) / bytes)));
  await drive(warmUpCount, 10, send);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  // Pooled: every send is queued at once, as an application would; unpooled: 10 in flight.
  await drive(count, pooled ? count : 10, send);
  const elapsedMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  await contender.close();
  const cpuMicrosecondsPerMessage = (cpu.user + cpu.system) / count;
  return {
    messagesPerSecond: (count * 1000) / elapsedMs,
    megabytesPerSecond: (count * bytes) / 1024 / 1024 / (elapsedMs / 1000),
    cpuMicrosecondsPerMessage,
    elapsedMs,
  };
}

const scenarios = [
  { name: '5,000 × 1 KB', kind: 'raw', modes: [true, false], count: Math.round(5000 * scale), bytes: 1024 },
  {
    name: '200 × 1 MB',
    kind: 'raw',
    modes: [true, false],
    count: Math.round(200 * scale),
    bytes: 1024 * 1024,
  },
  {
    name: 'composed 5,000 × 1 KB',
    kind: 'composed',
    modes: [true],
    count: Math.round(5000 * scale),
    bytes: 1024,
  },
  {
    name: 'composed 200 × 1 MB',
    kind: 'composed',
    modes: [true],
    count: Math.round(200 * scale),
    bytes: 1024 * 1024,
  },
].filter((scenario) => scenario.name.includes(only));

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

/** The median of each figure over the runs of one contender. */
function summarise(runs) {
  return {
    messagesPerSecond: median(runs.map((run) => run.messagesPerSecond)),
    megabytesPerSecond: median(runs.map((run) => run.megabytesPerSecond)),
    cpuMicrosecondsPerMessage: median(runs.map((run) => run.cpuMicrosecondsPerMessage)),
    elapsedMs: median(runs.map((run) => run.elapsedMs)),
    runs: runs.length,
  };
}

/** `bytes` made on the fly, 64 KiB at a time: only what is in flight exists at any moment. */
function generatedStream(bytes) {
  let made = 0;
  return new Readable({
    highWaterMark: 64 * 1024,
    read() {
      if (made >= bytes) {
        this.push(null);
        return;
      }
      const size = Math.min(64 * 1024, bytes - made);
      this.push(Buffer.alloc(size, made & 0xff));
      made += size;
    },
  });
}

const memoryScenario = 'composed memory: one 50 MB attachment from a stream';
const memoryAttachmentBytes = 50 * 1024 * 1024;

/**
 * Runs in a child process of its own (a clean heap): sends one composed message whose attachment is a
 * 50 MB stream and reports how far the peak RSS (getrusage maxrss, so nothing between samples is
 * missed) rose above the RSS just before the send.
 */
async function memoryProbe(name, port) {
  const contender = contenders[name](port, false);
  const fields = makeComposeFields(4096);
  await contender.sendComposed(fields); // load and warm up everything but the big message
  const rssBefore = process.memoryUsage().rss;
  await contender.sendComposed({
    ...fields,
    attachments: [{ filename: 'big.bin', content: generatedStream(memoryAttachmentBytes) }],
  });
  const peakRss = process.resourceUsage().maxRSS * 1024;
  await contender.close();
  process.stdout.write(JSON.stringify({ rssBefore, peakRss }));
}

async function runMemoryProbe(name, port) {
  const child = spawn(
    process.execPath,
    [fileURLToPath(import.meta.url), '--memory-probe', name, String(port)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let output = '';
  child.stdout.on('data', (data) => {
    output += data;
  });
  const code = await new Promise((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`the memory probe for ${name} exited with ${code}`);
  return JSON.parse(output);
}

if (process.argv[2] === '--memory-probe') {
  await memoryProbe(process.argv[3], Number(process.argv[4]));
  process.exit(0);
}

const sink = await startSink();
const rows = [];
const memory = [];
try {
  for (const scenario of scenarios) {
    if (scenario.kind === 'raw') scenario.message = makeMessage(scenario.bytes);
    else scenario.fields = makeComposeFields(scenario.bytes);
    for (const pooled of scenario.modes) {
      const runs = { '@smtp/client': [], nodemailer: [] };
      for (let repetition = 0; repetition < repetitions; repetition++) {
        // Alternate the order so neither side always runs on a warmer (or busier) machine.
        const order = repetition % 2 === 0 ? ['@smtp/client', 'nodemailer'] : ['nodemailer', '@smtp/client'];
        for (const name of order) {
          runs[name].push(await measure(name, sink.port, pooled, scenario));
        }
      }
      const ours = summarise(runs['@smtp/client']);
      const theirs = summarise(runs.nodemailer);
      // Each repetition ran both peers back to back: their ratio is the least disturbed by machine drift.
      const paired = runs['@smtp/client'].map((run, index) => ({
        throughput: run.messagesPerSecond / runs.nodemailer[index].messagesPerSecond,
        cpu: run.cpuMicrosecondsPerMessage / runs.nodemailer[index].cpuMicrosecondsPerMessage,
      }));
      rows.push({
        scenario: scenario.name,
        mode: pooled ? 'pool 10' : 'no pool',
        ours,
        nodemailer: theirs,
        throughputRatio: ours.messagesPerSecond / theirs.messagesPerSecond,
        cpuRatio: ours.cpuMicrosecondsPerMessage / theirs.cpuMicrosecondsPerMessage,
        pairedThroughputRatios: paired.map((pair) => pair.throughput),
        pairedCpuRatios: paired.map((pair) => pair.cpu),
        runs,
      });
    }
  }
  if (memoryScenario.includes(only)) {
    for (const name of ['@smtp/client', 'nodemailer']) {
      memory.push({ contender: name, ...(await runMemoryProbe(name, sink.port)) });
    }
  }
} finally {
  sink.stop();
}

const format = (value, digits = 0) =>
  value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const range = (values) => `${format(Math.min(...values), 2)}–${format(Math.max(...values), 2)}`;
const table = rows.map((row) => ({
  scenario: row.scenario,
  mode: row.mode,
  '@smtp msg/s': format(row.ours.messagesPerSecond),
  'nodemailer msg/s': format(row.nodemailer.messagesPerSecond),
  'msg/s ratio': `${format(row.throughputRatio, 2)}×`,
  'paired msg/s': range(row.pairedThroughputRatios),
  '@smtp MB/s': format(row.ours.megabytesPerSecond, 1),
  'nodemailer MB/s': format(row.nodemailer.megabytesPerSecond, 1),
  '@smtp CPU µs/msg': format(row.ours.cpuMicrosecondsPerMessage),
  'nodemailer CPU µs/msg': format(row.nodemailer.cpuMicrosecondsPerMessage),
  'CPU ratio': `${format(row.cpuRatio, 2)}×`,
  'paired CPU': range(row.pairedCpuRatios),
}));
console.log(
  `@smtp/client (${fileURLToPath(clientModule)}) vs nodemailer ${nodemailerVersion} → smtp-sink on loopback, median of ${repetitions} alternating runs, ${cpus().length} cores, Node ${process.version}`,
);
console.table(table);
console.log('target: msg/s ratio ≥ 1.50× and CPU ratio < 1.00× in every row');
const megabytes = (bytes) => format(bytes / 1024 / 1024, 1);
if (memory.length > 0) {
  console.log(memoryScenario);
  console.table(
    memory.map((probe) => ({
      contender: probe.contender,
      'RSS before MB': megabytes(probe.rssBefore),
      'peak RSS MB': megabytes(probe.peakRss),
      'rise MB': megabytes(probe.peakRss - probe.rssBefore),
    })),
  );
  console.log(
    `target: the rise stays far below the ${megabytes(memoryAttachmentBytes)} MB attachment (streamed)`,
  );
}

function postfixVersion() {
  try {
    return execFileSync('dpkg-query', ['-W', '-f', '$' + '{Version}', 'postfix'])
      .toString()
      .trim();
  } catch {
    return 'unknown';
  }
}

const resultsDirectory = fileURLToPath(new URL('./results/', import.meta.url));
mkdirSync(resultsDirectory, { recursive: true });
const output = {
  date: new Date().toISOString(),
  client: process.env.BENCH_CLIENT ?? 'bench/dist/client.js',
  nodemailer: nodemailerVersion,
  node: process.version,
  cores: cpus().length,
  peer: `smtp-sink (postfix ${postfixVersion()})`,
  repetitions,
  statistic: 'median',
  rows,
  memory,
};
// A partial run (BENCH_ONLY) does not replace the full results.
const onlySuffix = only === '' ? '' : `.only-${only.replace(/[^a-z0-9]+/gi, '-')}`;
const outputName = process.env.BENCH_CLIENT
  ? `versus-nodemailer.${basename(process.env.BENCH_CLIENT, '.js')}${onlySuffix}.json`
  : `versus-nodemailer${onlySuffix}.json`;
writeFileSync(`${resultsDirectory}${outputName}`, `${JSON.stringify(output, null, 2)}\n`);
console.log(`wrote ${resultsDirectory}${outputName}`);
