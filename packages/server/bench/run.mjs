// Benchmark: @smtp/server vs nodemailer's smtp-server, same trivial handler, same run, loopback,
// load from Postfix's smtp-source. Prints a table with ratios and writes bench/results/latest.json.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const run = promisify(execFile);
const smtpSource = '/usr/sbin/smtp-source';
if (!existsSync(smtpSource)) {
  console.error('smtp-source is missing. Install it: apt-get install postfix');
  process.exit(1);
}
const quick = process.argv.includes('--quick');
const scale = quick ? 0.2 : 1;
const idleCount = Number(process.env.IDLE_CONNECTIONS ?? (quick ? 2000 : 10_000));

/** Scenarios from issue #3. */
const scenarios = [
  { name: '1 KB, c=1', size: 1024, concurrency: 1, messages: 3000, reuse: true },
  { name: '1 KB, c=10', size: 1024, concurrency: 10, messages: 30000, reuse: true },
  { name: '1 KB, c=100', size: 1024, concurrency: 100, messages: 30000, reuse: true },
  { name: '100 KB, c=10', size: 100 * 1024, concurrency: 10, messages: 3000, reuse: true },
  { name: '10 MB, c=4', size: 10 * 1024 * 1024, concurrency: 4, messages: 40, reuse: true, unit: 'MB/s' },
  { name: '1 KB, conn/msg, c=10', size: 1024, concurrency: 10, messages: 500, reuse: false },
];

function startServer(kind) {
  const child = spawn(process.execPath, ['--expose-gc', join(here, 'server-process.mjs'), kind], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  const queue = [];
  const waiters = [];
  lines.on('line', (line) => {
    const value = JSON.parse(line);
    const waiter = waiters.shift();
    if (waiter) waiter(value);
    else queue.push(value);
  });
  const next = () =>
    queue.length ? Promise.resolve(queue.shift()) : new Promise((resolve) => waiters.push(resolve));
  return {
    ready: next(),
    stats: (gc = false) => {
      child.stdin.write(gc ? 'gc\n' : 'stats\n');
      return next();
    },
    stop: () => {
      child.stdin.end();
      child.kill();
    },
  };
}

async function load(port, scenario) {
  const messages = Math.max(scenario.concurrency, Math.round(scenario.messages * scale));
  const args = [
    '-s',
    String(scenario.concurrency),
    '-m',
    String(messages),
    '-l',
    String(scenario.size),
    '-M',
    'load.test',
  ];
  if (scenario.reuse) args.push('-d');
  args.push(`127.0.0.1:${port}`);
  const started = process.hrtime.bigint();
  await run(smtpSource, args, { maxBuffer: 1 << 20 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { messages, seconds };
}

async function idleRss(server, port) {
  await new Promise((resolve) => setTimeout(resolve, 300));
  const before = await server.stats(true);
  const clients = spawn(process.execPath, [join(here, 'idle-clients.mjs'), String(port), String(idleCount)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const report = await new Promise((resolve) => {
    createInterface({ input: clients.stdout }).once('line', (line) => resolve(JSON.parse(line)));
  });
  await new Promise((resolve) => setTimeout(resolve, 500));
  const after = await server.stats(true);
  clients.stdin.end();
  clients.kill();
  return { ...report, bytesPerConnection: (after.rssBytes - before.rssBytes) / Math.max(1, report.greeted) };
}

async function measure(kind) {
  const server = startServer(kind);
  const { port } = await server.ready;
  const rows = [];
  // Warm-up: JIT and buffers.
  await load(port, { size: 1024, concurrency: 10, messages: 2000, reuse: true });
  for (const scenario of scenarios) {
    const before = await server.stats();
    const { messages, seconds } = await load(port, scenario);
    const after = await server.stats();
    const delivered = after.messages - before.messages;
    rows.push({
      scenario: scenario.name,
      unit: scenario.unit ?? 'msg/s',
      value:
        scenario.unit === 'MB/s' ? (messages * scenario.size) / 1024 / 1024 / seconds : messages / seconds,
      cpuMicrosPerMessage: (after.cpuMicros - before.cpuMicros) / Math.max(1, delivered),
      delivered,
      sent: messages,
    });
    process.stderr.write(`  ${kind}: ${scenario.name} done\n`);
  }
  const peak = await server.stats();
  server.stop();
  // Idle connections on a fresh process: RSS left behind by the 10 MB runs would hide them.
  const fresh = startServer(kind);
  const idle = await idleRss(fresh, (await fresh.ready).port);
  fresh.stop();
  return { rows, peakRssBytes: peak.maxRssBytes, idle };
}

const results = {};
for (const kind of ['smtp', 'smtp-server']) {
  process.stderr.write(`measuring ${kind}…\n`);
  results[kind] = await measure(kind);
}

const ours = results.smtp;
const theirs = results['smtp-server'];
const format = (value, digits = 0) =>
  value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const table = [];
for (const [index, row] of ours.rows.entries()) {
  const other = theirs.rows[index];
  table.push({
    scenario: row.scenario,
    unit: row.unit,
    '@smtp/server': format(row.value, row.unit === 'MB/s' ? 1 : 0),
    'smtp-server': format(other.value, row.unit === 'MB/s' ? 1 : 0),
    ratio: `${format(row.value / other.value, 2)}×`,
    'CPU µs/msg (ours)': format(row.cpuMicrosPerMessage, 1),
    'CPU µs/msg (theirs)': format(other.cpuMicrosPerMessage, 1),
  });
}
console.table(table);
const memory = [
  {
    measure: 'peak RSS (MB)',
    '@smtp/server': format(ours.peakRssBytes / 1048576, 1),
    'smtp-server': format(theirs.peakRssBytes / 1048576, 1),
    ratio: `${format(ours.peakRssBytes / theirs.peakRssBytes, 2)}×`,
  },
  {
    measure: `RSS per idle connection (KB, ${idleCount})`,
    '@smtp/server': format(ours.idle.bytesPerConnection / 1024, 2),
    'smtp-server': format(theirs.idle.bytesPerConnection / 1024, 2),
    ratio: `${format(ours.idle.bytesPerConnection / theirs.idle.bytesPerConnection, 2)}×`,
  },
];
console.table(memory);
mkdirSync(join(here, 'results'), { recursive: true });
const file = join(here, 'results', 'latest.json');
writeFileSync(
  file,
  `${JSON.stringify({ date: new Date().toISOString(), node: process.version, quick, idleCount, results, table, memory }, null, 2)}\n`,
);
console.log(`written ${file}`);
