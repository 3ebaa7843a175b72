// Benchmark: @smtp/server vs nodemailer's smtp-server, same trivial handler, same run, loopback,
// load from Postfix's smtp-source (issue #3). Prints a table with ratios and writes
// bench/results/latest.json.
//
// The machine is shared and noisy, so the two servers are measured alternately: both run side by
// side for the whole benchmark, and every scenario is run `--rounds` times per server, in ABBA order
// (A B, B A, A B, …) so drift hits both alike. The table shows medians and the range of the
// per-round ratios; the JSON keeps every sample. `1 KB, c=1` is the least stable row (each message is
// four round trips, each waiting for two processes to be scheduled): it runs three times as many
// rounds of half the messages, and its ratio is printed on its own line at the end.
//
// smtp-server waits 100 ms before its greeting (its early-talker check, which no option turns off).
// In the scenarios that keep their connections (`-d`), smtp-source opens them once, all at the start,
// so that wait is paid once per sample whatever the concurrency: it is measured for each server at the
// start (median of 5 connections) and subtracted from each such sample. At c=1 it was about 15% of
// smtp-server's sample time, in our favour. With one connection per message it stays in: there, it is
// what a client of smtp-server waits.
//
// Also measured: round trips per command on one connection, one command at a time (latency-client.mjs:
// EHLO, MAIL, RCPT, DATA, end-of-data, RSET, QUIT; p50/p99), and the peak RSS of each server process
// per scenario (VmHWM in /proc/PID/status, reset before each scenario after a full GC).
//
// Usage: node bench/run.mjs [--quick] [--rounds N] [--only TEXT] [--no-idle] [--pin] [--floor]
//   --quick    fewer messages and 2,000 idle connections (a smoke run)
//   --rounds   samples per server and scenario (default 5; idle memory: min(3, rounds))
//   --only     run the scenarios named TEXT, or else whose name contains TEXT; repeatable
//              (e.g. --only "1 KB, c=1" --only "round trips")
//   --no-idle  skip the idle-connection memory measurement
//   --pin      pin the server under test to CPU 1 and smtp-source to CPU 0 (taskset), so the load
//              generator never competes with the server for a core
//   --floor    also measure a reference that is not an SMTP server: canned replies over net.Socket
//              (server-process.mjs floor). Its CPU per message is what Node's socket layer and the
//              kernel cost on this machine, the floor under any Node SMTP server.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { loadavg } from 'node:os';
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
    only: { type: 'string', multiple: true },
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
  { name: '1 KB, c=1', size: 1024, concurrency: 1, messages: 1000, reuse: true, roundsFactor: 3 },
  { name: '1 KB, c=10', size: 1024, concurrency: 10, messages: 10000, reuse: true },
  { name: '1 KB, c=100', size: 1024, concurrency: 100, messages: 10000, reuse: true },
  { name: '100 KB, c=10', size: 100 * 1024, concurrency: 10, messages: 1500, reuse: true },
  { name: '10 MB, c=4', size: 10 * 1024 * 1024, concurrency: 4, messages: 16, reuse: true, unit: 'MB/s' },
  { name: '1 KB, conn/msg, c=10', size: 1024, concurrency: 10, messages: 500, reuse: false },
];
/** Round trips per command: one connection at a time, `transactions` per sample over `connections`. */
const latencyScenario = { name: 'round trips, 1 KB, c=1', size: 1024, transactions: 2000, connections: 10 };
/**
 * --only TEXT selects the scenarios named exactly TEXT if there are any ("1 KB, c=1" is not also
 * "1 KB, c=10"), else those whose name contains it. Repeatable.
 */
function isSelected(name) {
  if (!flags.only) return true;
  const names = [...allScenarios.map((scenario) => scenario.name), latencyScenario.name];
  return flags.only.some((text) => (names.includes(text) ? name === text : name.includes(text)));
}
const scenarios = allScenarios.filter((scenario) => isSelected(scenario.name));
const isLatencyRun = isSelected(latencyScenario.name);
const latencyCommands = ['EHLO', 'MAIL', 'RCPT', 'DATA', 'end-of-data', 'RSET', 'QUIT'];

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
    pid: child.pid, // taskset execs the server: the same process
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

/** Milliseconds from connecting to the first byte of the greeting: the median of 5 connections. */
async function greetingWaitMs(port) {
  const waits = [];
  for (let index = 0; index < 5; index++) {
    waits.push(
      await new Promise((resolve, reject) => {
        const started = process.hrtime.bigint();
        const socket = connect({ port, host: '127.0.0.1' });
        socket.once('data', () => {
          resolve(Number(process.hrtime.bigint() - started) / 1e6);
          socket.destroy();
        });
        socket.once('error', reject);
      }),
    );
  }
  return median(waits);
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

/** The peak RSS of a process since it started or since the last resetPeakRss(), from the kernel. */
function peakRssBytes(pid) {
  const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : Number.NaN;
}
/** Sets the process's VmHWM to its current RSS (proc(5): clear_refs, value 5). */
function resetPeakRss(pid) {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
}

async function sample(server, port, scenario) {
  const before = await server.stats();
  const { messages, seconds: elapsed } = await load(port, scenario);
  // The connections were opened once, together: their greeting wait counts once (see the top).
  const seconds = scenario.reuse ? elapsed - server.greetingWaitMs / 1000 : elapsed;
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

/** One latency-client run: round-trip samples per command and transactions/s, with the server's CPU. */
async function latencySample(server, port) {
  const transactions = Math.round(latencyScenario.transactions * scale);
  const before = await server.stats();
  const { stdout } = await run(
    process.execPath,
    [
      join(here, 'latency-client.mjs'),
      String(port),
      String(transactions),
      String(latencyScenario.connections),
      String(latencyScenario.size),
    ],
    { maxBuffer: 64 << 20 },
  );
  const after = await server.stats();
  const result = JSON.parse(stdout);
  return {
    value: result.transactionsPerSecond,
    samples: result.samples,
    cpuMicrosPerTransaction: (after.cpuMicros - before.cpuMicros) / transactions,
    systemMicrosPerTransaction: (after.systemMicros - before.systemMicros) / transactions,
  };
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
const loadAtStart = loadavg();
process.stderr.write(`rounds: ${rounds}${pin ? ', pinned' : ''}; warming up…\n`);
for (const kind of kinds) {
  await load(servers[kind].port, { size: 1024, concurrency: 10, messages: 2000, reuse: true });
  servers[kind].greetingWaitMs = await greetingWaitMs(servers[kind].port);
}
process.stderr.write(
  `greeting wait (ms): ${kinds.map((kind) => `${names[kind]} ${servers[kind].greetingWaitMs.toFixed(1)}`).join(', ')}\n`,
);

/** Per-round ratios ours/theirs of `value`. */
const roundRatios = (list) => list.smtp.map((ours, index) => ours.value / list['smtp-server'][index].value);
/** Peak RSS per scenario and server: after a full GC, from a reset VmHWM to the end of the scenario. */
const peaks = {};
async function measuringPeaks(name, work) {
  for (const kind of kinds) {
    await servers[kind].stats(true);
    resetPeakRss(servers[kind].pid);
  }
  await work();
  peaks[name] = Object.fromEntries(kinds.map((kind) => [kind, peakRssBytes(servers[kind].pid)]));
}

const samples = {};
for (const scenario of scenarios) {
  samples[scenario.name] = emptySamples();
  await measuringPeaks(scenario.name, async () => {
    for (let round = 0; round < rounds * (scenario.roundsFactor ?? 1); round++) {
      for (const kind of orderFor(round)) {
        samples[scenario.name][kind].push(await sample(servers[kind], servers[kind].port, scenario));
      }
    }
  });
  const ratios = roundRatios(samples[scenario.name]);
  process.stderr.write(`  ${scenario.name}: ratios ${ratios.map((ratio) => ratio.toFixed(2)).join(' ')}\n`);
}
const latency = emptySamples();
if (isLatencyRun) {
  await measuringPeaks(latencyScenario.name, async () => {
    for (let round = 0; round < rounds; round++) {
      for (const kind of orderFor(round))
        latency[kind].push(await latencySample(servers[kind], servers[kind].port));
    }
  });
  const ratios = roundRatios(latency);
  process.stderr.write(
    `  ${latencyScenario.name}: ratios ${ratios.map((ratio) => ratio.toFixed(2)).join(' ')}\n`,
  );
}
for (const kind of kinds) await servers[kind].stop();

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
/** "1.21–1.60" */
const range = (ratios) => `${format(Math.min(...ratios), 2)}–${format(Math.max(...ratios), 2)}`;
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
    'per round': range(roundRatios(samples[scenario.name])),
    'CPU µs/msg ours (kernel)': cpu(ours),
    'theirs (kernel)': cpu(theirs),
  };
  if (flags.floor) {
    const floor = summary(samples[scenario.name].floor);
    row['floor (kernel)'] = `${format(floor.value, digits)}: ${cpu(floor)}`;
  }
  table.push(row);
}
console.table(table);

const percentile = (sorted, fraction) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))];
/** Every round's samples of `command` for one server, pooled and sorted. */
const pooled = (kind, command) =>
  latency[kind].flatMap((entry) => entry.samples[command]).sort((a, b) => a - b);
const latencyTable = [];
if (isLatencyRun) {
  for (const command of latencyCommands) {
    const ours = pooled('smtp', command);
    const theirs = pooled('smtp-server', command);
    const p50 = [percentile(ours, 0.5), percentile(theirs, 0.5)];
    const p99 = [percentile(ours, 0.99), percentile(theirs, 0.99)];
    // Per round: how much faster our median round trip is (theirs / ours).
    const perRound = latency.smtp.map((entry, index) => {
      const theirsRound = [...latency['smtp-server'][index].samples[command]].sort((a, b) => a - b);
      const oursRound = [...entry.samples[command]].sort((a, b) => a - b);
      return percentile(theirsRound, 0.5) / percentile(oursRound, 0.5);
    });
    latencyTable.push({
      'round trip (µs)': command,
      samples: ours.length,
      'p50 ours': format(p50[0], 0),
      'p50 theirs': format(p50[1], 0),
      'p50 speed-up': `${format(p50[1] / p50[0], 2)}×`,
      'per round': range(perRound),
      'p99 ours': format(p99[0], 0),
      'p99 theirs': format(p99[1], 0),
      'p99 speed-up': `${format(p99[1] / p99[0], 2)}×`,
      ...(flags.floor ? { 'p50 floor': format(percentile(pooled('floor', command), 0.5), 0) } : {}),
    });
  }
  const ours = median(latency.smtp.map((entry) => entry.value));
  const theirs = median(latency['smtp-server'].map((entry) => entry.value));
  const cpuPerTransaction = (kind) =>
    `${format(median(latency[kind].map((entry) => entry.cpuMicrosPerTransaction)), 1)} (${format(median(latency[kind].map((entry) => entry.systemMicrosPerTransaction)), 1)})`;
  latencyTable.push({
    'round trip (µs)': 'transactions/s',
    samples: latency.smtp.length,
    'p50 ours': format(ours, 0),
    'p50 theirs': format(theirs, 0),
    'p50 speed-up': `${format(ours / theirs, 2)}×`,
    'per round': range(roundRatios(latency)),
    'p99 ours': `CPU µs/tx ${cpuPerTransaction('smtp')}`,
    'p99 theirs': cpuPerTransaction('smtp-server'),
    'p99 speed-up': '',
  });
  console.log(
    `${latencyScenario.name}: one command at a time, ${latencyScenario.connections} connections in turn`,
  );
  console.table(latencyTable);
}

// The single-connection figure of issue 15, on its own line.
const singleConnection = samples['1 KB, c=1'];
if (singleConnection) {
  const ratios = roundRatios(singleConnection);
  const rate = (kind) => median(singleConnection[kind].map((entry) => entry.value));
  console.log(
    `1 KB, c=1 (smtp-source): @smtp/server ${format(rate('smtp'), 0)} msg/s, smtp-server ` +
      `${format(rate('smtp-server'), 0)} msg/s: ${format(rate('smtp') / rate('smtp-server'), 2)}× ` +
      `(${ratios.length} rounds; per-round ratios: median ${format(median(ratios), 2)}×, range ${range(ratios)})`,
  );
}

const memory = [];
const peakNames = Object.keys(peaks);
for (const name of peakNames) {
  memory.push({
    measure: `peak RSS (MB), ${name}`,
    '@smtp/server': format(peaks[name].smtp / 1048576, 1),
    'smtp-server': format(peaks[name]['smtp-server'] / 1048576, 1),
    ratio: `${format(peaks[name].smtp / peaks[name]['smtp-server'], 2)}×`,
    ...(flags.floor ? { floor: format(peaks[name].floor / 1048576, 1) } : {}),
  });
}
const highest = (kind) => Math.max(...peakNames.map((name) => peaks[name][kind]));
if (peakNames.length > 0) {
  memory.push({
    measure: 'peak RSS (MB), highest',
    '@smtp/server': format(highest('smtp') / 1048576, 1),
    'smtp-server': format(highest('smtp-server') / 1048576, 1),
    ratio: `${format(highest('smtp') / highest('smtp-server'), 2)}×`,
    ...(flags.floor ? { floor: format(highest('floor') / 1048576, 1) } : {}),
  });
}
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
const loads = (values) => values.map((value) => value.toFixed(2)).join(' ');
console.log(`load average (1, 5, 15 min): ${loads(loadAtStart)} at start, ${loads(loadavg())} at end`);
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
        // Round-trip samples are summarised in latencyTable; per round only rates and CPU are kept.
        latency: latency[kind].map(({ samples: _samples, ...rest }) => rest),
        peakRssBytes: Object.fromEntries(peakNames.map((name) => [name, peaks[name][kind]])),
        idle: idle[kind],
      },
    ]),
  );
  writeFileSync(
    file,
    `${JSON.stringify({ date: new Date().toISOString(), node: process.version, loadAverage: { start: loadAtStart, end: loadavg() }, quick, rounds, pinned: pin, idleCount, table, latencyTable, memory, results }, null, 2)}\n`,
  );
  console.log(`written ${file}`);
}
