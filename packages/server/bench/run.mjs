// Benchmark: @smtp/server vs nodemailer's smtp-server, same trivial handler, same run, loopback,
// load from Postfix's smtp-source (issue #3). Prints a table with ratios and writes
// bench/results/latest.json.
//
// The machine is shared and noisy, so the two servers are measured alternately: both run side by
// side for the whole benchmark, and every scenario is run `--rounds` times per server, in ABBA order
// (A B, B A, A B, …) so drift hits both alike. The table shows medians; the JSON keeps every sample.
//
// Usage: node bench/run.mjs [--quick] [--rounds N] [--only TEXT] [--no-idle] [--pin] [--floor]
//   --quick    fewer messages and 2,000 idle connections (a smoke run)
//   --rounds   samples per server and scenario (default 5; idle memory: min(3, rounds))
//   --only     run the scenarios whose name contains TEXT (e.g. --only "c=10")
//   --no-idle  skip the idle-connection memory measurement
//   --pin      pin the server under test to CPU 1 and smtp-source to CPU 0 (taskset), so the load
//              generator never competes with the server for a core
//   --floor    also measure a reference that is not an SMTP server: canned replies over net.Socket
//              (server-process.mjs floor). Its CPU per message is what Node's socket layer and the
//              kernel cost on this machine, the floor under any Node SMTP server.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const run = promisify(execFile);
const smtpSource = '/usr/sbin/smtp-source';
if (!existsSync(smtpSource)) {
  console.error('smtp-source is missing. Install it: apt-get install postfix');
  process.exit(1);
}
const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '5' },
    only: { type: 'string' },
    'no-idle': { type: 'boolean', default: false },
    pin: { type: 'boolean', default: false },
    floor: { type: 'boolean', default: false },
  },
});
const quick = flags.quick;
const rounds = Math.max(1, Number(flags.rounds));
const scale = quick ? 0.2 : 1;
const idleCount = Number(process.env.IDLE_CONNECTIONS ?? (quick ? 2000 : 10_000));
const pin = flags.pin && existsSync('/usr/bin/taskset');
const kinds = flags.floor ? ['smtp', 'smtp-server', 'floor'] : ['smtp', 'smtp-server'];
const names = { smtp: '@smtp/server', 'smtp-server': 'smtp-server', floor: 'floor (not SMTP)' };

/** Scenarios from issue #3. Message counts are per sample. */
const allScenarios = [
  { name: '1 KB, c=1', size: 1024, concurrency: 1, messages: 2000, reuse: true },
  { name: '1 KB, c=10', size: 1024, concurrency: 10, messages: 10000, reuse: true },
  { name: '1 KB, c=100', size: 1024, concurrency: 100, messages: 10000, reuse: true },
  { name: '100 KB, c=10', size: 100 * 1024, concurrency: 10, messages: 1500, reuse: true },
  { name: '10 MB, c=4', size: 10 * 1024 * 1024, concurrency: 4, messages: 16, reuse: true, unit: 'MB/s' },
  { name: '1 KB, conn/msg, c=10', size: 1024, concurrency: 10, messages: 500, reuse: false },
];
const scenarios = allScenarios.filter((scenario) => !flags.only || scenario.name.includes(flags.only));

/** `command args` on one CPU when pinning. */
function pinned(cpu, command, args) {
  return pin ? ['/usr/bin/taskset', ['-c', String(cpu), command, ...args]] : [command, args];
}

function startServer(kind) {
  const [command, args] = pinned(1, process.execPath, [
    '--expose-gc',
    join(here, 'server-process.mjs'),
    kind,
  ]);
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
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
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    ready: next(),
    stats: (gc = false) => {
      child.stdin.write(gc ? 'gc\n' : 'stats\n');
      return next();
    },
    stop: () => {
      child.stdin.end();
      return exited;
    },
  };
}

/** smtp-source: -s sessions in parallel, -m messages in all, -l message bytes, -d reuse the connection. */
async function load(port, scenario) {
  const messages = Math.max(scenario.concurrency, Math.round(scenario.messages * scale));
  const args = ['-s', String(scenario.concurrency), '-m', String(messages), '-l', String(scenario.size)];
  args.push('-M', 'load.test');
  if (scenario.reuse) args.push('-d');
  args.push(`127.0.0.1:${port}`);
  const [command, commandArgs] = pinned(0, smtpSource, args);
  const started = process.hrtime.bigint();
  await run(command, commandArgs, { maxBuffer: 1 << 20 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { messages, seconds };
}

async function sample(server, port, scenario) {
  const before = await server.stats();
  const { messages, seconds } = await load(port, scenario);
  const after = await server.stats();
  const delivered = after.messages - before.messages;
  return {
    value: scenario.unit === 'MB/s' ? (messages * scenario.size) / 1048576 / seconds : messages / seconds,
    cpuMicrosPerMessage: (after.cpuMicros - before.cpuMicros) / Math.max(1, delivered),
    systemMicrosPerMessage: (after.systemMicros - before.systemMicros) / Math.max(1, delivered),
    delivered,
    sent: messages,
  };
}

/** RSS growth per connection while `idleCount` clients sit idle after the greeting, on a fresh process. */
async function idleRss(kind) {
  const server = startServer(kind);
  const { port } = await server.ready;
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
  await server.stop();
  return { ...report, bytesPerConnection: (after.rssBytes - before.rssBytes) / Math.max(1, report.greeted) };
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
/** A B, B A, A B, …: each server goes first equally often. */
const orderFor = (round) => (round % 2 === 0 ? kinds : [...kinds].reverse());
const emptySamples = () => Object.fromEntries(kinds.map((kind) => [kind, []]));

const servers = {};
for (const kind of kinds) {
  servers[kind] = startServer(kind);
  servers[kind].port = (await servers[kind].ready).port;
}
process.stderr.write(`rounds: ${rounds}${pin ? ', pinned' : ''}; warming up…\n`);
for (const kind of kinds) {
  await load(servers[kind].port, { size: 1024, concurrency: 10, messages: 2000, reuse: true });
}

const samples = {};
for (const scenario of scenarios) {
  samples[scenario.name] = emptySamples();
  for (let round = 0; round < rounds; round++) {
    for (const kind of orderFor(round)) {
      samples[scenario.name][kind].push(await sample(servers[kind], servers[kind].port, scenario));
    }
  }
  const ratios = samples[scenario.name].smtp.map(
    (ours, index) => ours.value / samples[scenario.name]['smtp-server'][index].value,
  );
  process.stderr.write(`  ${scenario.name}: ratios ${ratios.map((ratio) => ratio.toFixed(2)).join(' ')}\n`);
}
const peakRssBytes = {};
for (const kind of kinds) {
  peakRssBytes[kind] = (await servers[kind].stats()).maxRssBytes;
  await servers[kind].stop();
}

const idle = emptySamples();
if (!flags['no-idle']) {
  const idleRounds = Math.min(3, rounds);
  for (let round = 0; round < idleRounds; round++) {
    for (const kind of orderFor(round)) idle[kind].push(await idleRss(kind));
  }
  process.stderr.write('  idle connections done\n');
}

const format = (value, digits = 0) =>
  value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const summary = (list) => ({
  value: median(list.map((entry) => entry.value)),
  cpuMicrosPerMessage: median(list.map((entry) => entry.cpuMicrosPerMessage)),
  systemMicrosPerMessage: median(list.map((entry) => entry.systemMicrosPerMessage)),
});
/** "total (kernel)" µs per message. */
const cpu = (entry) => `${format(entry.cpuMicrosPerMessage, 1)} (${format(entry.systemMicrosPerMessage, 1)})`;
const table = [];
for (const scenario of scenarios) {
  const ours = summary(samples[scenario.name].smtp);
  const theirs = summary(samples[scenario.name]['smtp-server']);
  const unit = scenario.unit ?? 'msg/s';
  const digits = unit === 'MB/s' ? 1 : 0;
  const row = {
    scenario: scenario.name,
    unit,
    '@smtp/server': format(ours.value, digits),
    'smtp-server': format(theirs.value, digits),
    ratio: `${format(ours.value / theirs.value, 2)}×`,
    'CPU µs/msg ours (kernel)': cpu(ours),
    'theirs (kernel)': cpu(theirs),
  };
  if (flags.floor) row['floor (kernel)'] = cpu(summary(samples[scenario.name].floor));
  table.push(row);
}
console.table(table);
const memory = [
  {
    measure: 'peak RSS (MB)',
    '@smtp/server': format(peakRssBytes.smtp / 1048576, 1),
    'smtp-server': format(peakRssBytes['smtp-server'] / 1048576, 1),
    ratio: `${format(peakRssBytes.smtp / peakRssBytes['smtp-server'], 2)}×`,
    ...(flags.floor ? { floor: format(peakRssBytes.floor / 1048576, 1) } : {}),
  },
];
if (idle.smtp.length > 0) {
  const perConnection = (kind) => median(idle[kind].map((entry) => entry.bytesPerConnection));
  const ours = perConnection('smtp');
  const theirs = perConnection('smtp-server');
  memory.push({
    measure: `RSS per idle connection (KB, ${idleCount})`,
    '@smtp/server': format(ours / 1024, 2),
    'smtp-server': format(theirs / 1024, 2),
    ratio: `${format(ours / theirs, 2)}×`,
    ...(flags.floor ? { floor: format(perConnection('floor') / 1024, 2) } : {}),
  });
}
console.table(memory);
if (flags.only) {
  console.log('partial run (--only): results not written');
} else {
  mkdirSync(join(here, 'results'), { recursive: true });
  const file = join(here, 'results', 'latest.json');
  const results = Object.fromEntries(
    kinds.map((kind) => [
      kind,
      {
        name: names[kind],
        samples: Object.fromEntries(
          scenarios.map((scenario) => [scenario.name, samples[scenario.name][kind]]),
        ),
        peakRssBytes: peakRssBytes[kind],
        idle: idle[kind],
      },
    ]),
  );
  writeFileSync(
    file,
    `${JSON.stringify({ date: new Date().toISOString(), node: process.version, quick, rounds, pinned: pin, idleCount, table, memory, results }, null, 2)}\n`,
  );
  console.log(`written ${file}`);
}
