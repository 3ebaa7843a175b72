// Benchmark (issue 15 item 2): `smtp bench` as a load generator against Postfix's smtp-source, both
// sending to the same smtp-sink on a free loopback port: same message size, same concurrency, same
// message count. Rounds alternate the generators (A B C, C B A, …) so drift on a shared machine hits
// all alike. Prints msg/s and CPU µs per message (user + system of the generator process, from
// getrusage(RUSAGE_CHILDREN) of a tiny python3 wrapper: microseconds, not clock ticks), their ratios
// to smtp-source as median with the per-round range, and writes bench/results/latest.json. Node's
// start-up (about 0.15 s of CPU) weighs on short runs, so the ratios are also given without it.
//
// smtp-source has no PIPELINING (see its man page, BUGS): it waits for every reply. `smtp bench`
// pipelines MAIL/RCPT/DATA after the previous "." when the server offers PIPELINING (smtp-sink does),
// and `--no-pipelining` makes the same round trips as smtp-source (one command, one reply).
//
// Usage: pnpm bench [--rounds N] [--quick] [--only TEXT] [--profile]
//   --rounds   samples per generator and scenario (default 5)
//   --quick    a fifth of the messages (a smoke run)
//   --only     run the scenarios whose name contains TEXT (e.g. --only "1 KB")
//   --profile  one extra `smtp bench` run per scenario under node --cpu-prof (bench/results/*.cpuprofile)
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const run = promisify(execFile);
const binPath = join(here, '..', 'dist', 'bin.js');
const smtpSource = '/usr/sbin/smtp-source';
const smtpSink = '/usr/sbin/smtp-sink';
for (const [tool, hint] of [
  [smtpSource, 'apt-get install postfix'],
  [smtpSink, 'apt-get install postfix'],
  ['/usr/bin/python3', 'apt-get install python3'],
]) {
  if (!existsSync(tool)) {
    console.error(`${tool} is missing. Install it: ${hint}`);
    process.exit(1);
  }
}

const { values: flags } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    profile: { type: 'boolean', default: false },
  },
});
const rounds = Math.max(1, Number(flags.rounds));
const scale = flags.quick ? 0.2 : 1;
const concurrency = 10;
/** smtp-source adds From, To, Date and Message-Id (133 bytes) to its -l payload. */
const smtpSourceHeaderBytes = 133;

const scenarios = [
  { name: '1 KB, c=10', size: 1024, messages: 30_000 },
  { name: '100 KB, c=10', size: 100 * 1024, messages: 3_000 },
].filter((scenario) => !flags.only || scenario.name.includes(flags.only));

const generators = [
  { id: 'smtp-source', label: 'smtp-source (no pipelining)' },
  { id: 'smtp-bench', label: 'smtp bench (pipelining)' },
  { id: 'smtp-bench-no-pipelining', label: 'smtp bench --no-pipelining' },
];

/** Runs a command under python3 and returns its wall time and CPU from getrusage(RUSAGE_CHILDREN). */
const rusageWrapper = `
import json, resource, subprocess, sys, time
started = time.perf_counter()
completed = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
seconds = time.perf_counter() - started
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
sys.stdout.write(json.dumps({"code": completed.returncode, "seconds": seconds, "user": usage.ru_utime,
  "system": usage.ru_stime, "stdout": completed.stdout.decode(errors="replace")[-4000:],
  "stderr": completed.stderr.decode(errors="replace")[-2000:]}))
`;

async function measure(command, args) {
  const { stdout } = await run('/usr/bin/python3', ['-c', rusageWrapper, command, ...args], {
    maxBuffer: 1 << 22,
  });
  const result = JSON.parse(stdout);
  if (result.code !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited ${result.code}\n${result.stdout}\n${result.stderr}`);
  }
  return result;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function startSink() {
  const port = await freePort();
  // smtp-sink refuses to run as root without -u; nobody is always there.
  const user = process.getuid?.() === 0 ? ['-u', 'nobody'] : [];
  const child = execFile(smtpSink, [...user, `127.0.0.1:${port}`, '1024']);
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const isUp = await new Promise((resolve) => {
      const probe = createServer();
      probe.once('error', () => resolve(true));
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(false)));
    });
    if (isUp) return { port, stop: () => child.kill() };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill();
  throw new Error(`smtp-sink did not listen on 127.0.0.1:${port}`);
}

function benchArgs(port, scenario, messages, pipelining) {
  return [
    'bench',
    '-s',
    `127.0.0.1:${port}`,
    '--count',
    String(messages),
    '--concurrency',
    String(concurrency),
    '--size',
    String(scenario.size),
    '--ehlo',
    'load.test',
    ...(pipelining ? [] : ['--no-pipelining']),
    '--json',
  ];
}

async function sample(generator, port, scenario, messages, sourcePayloadBytes) {
  let result;
  let steady = null;
  if (generator === 'smtp-source') {
    const args = ['-s', String(concurrency), '-m', String(messages), '-l', String(sourcePayloadBytes)];
    result = await measure(smtpSource, [...args, '-d', '-M', 'load.test', `127.0.0.1:${port}`]);
  } else {
    const pipelining = generator === 'smtp-bench';
    result = await measure(process.execPath, [binPath, ...benchArgs(port, scenario, messages, pipelining)]);
    const report = JSON.parse(result.stdout);
    if (report.results.succeeded !== messages) {
      throw new Error(`smtp bench delivered ${report.results.succeeded} of ${messages}: ${result.stdout}`);
    }
    // Without Node's start-up: the run's own clock, and the CPU less that of `smtp bench --help`
    // (which loads what a bench run loads: each subcommand is a chunk loaded when it runs).
    const startup = await measure(process.execPath, [binPath, 'bench', '--help']);
    steady = {
      messagesPerSecond: report.results.messagesPerSecond,
      cpuMicrosPerMessage: ((result.user + result.system - startup.user - startup.system) * 1e6) / messages,
    };
  }
  const whole = {
    messagesPerSecond: messages / result.seconds,
    cpuMicrosPerMessage: ((result.user + result.system) * 1e6) / messages,
  };
  return {
    ...whole,
    systemMicrosPerMessage: (result.system * 1e6) / messages,
    seconds: result.seconds,
    // smtp-source starts in about a millisecond: its steady figures are its whole ones.
    steady: steady ?? whole,
  };
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const format = (value, digits = 0) =>
  value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const range = (values, digits = 2) =>
  `${format(median(values), digits)} (${format(Math.min(...values), digits)}–${format(Math.max(...values), digits)})`;

const sink = await startSink();
const results = {};
try {
  process.stderr.write(`smtp-sink on 127.0.0.1:${sink.port}; rounds: ${rounds}; warming up…\n`);
  for (const scenario of scenarios) {
    const messages = Math.max(concurrency, Math.round(scenario.messages * scale));
    // The size smtp bench really sends (whole lines), so smtp-source gets the same bytes per message.
    const probe = await measure(process.execPath, [binPath, ...benchArgs(sink.port, scenario, 2000, true)]);
    const sizeBytes = JSON.parse(probe.stdout).settings.sizeBytes;
    const sourcePayloadBytes = sizeBytes - smtpSourceHeaderBytes;
    await sample('smtp-source', sink.port, scenario, 2000, sourcePayloadBytes);
    const samples = Object.fromEntries(generators.map((generator) => [generator.id, []]));
    for (let round = 0; round < rounds; round += 1) {
      const order = round % 2 === 0 ? generators : [...generators].reverse();
      for (const generator of order) {
        samples[generator.id].push(
          await sample(generator.id, sink.port, scenario, messages, sourcePayloadBytes),
        );
      }
    }
    if (flags.profile) {
      const profileDirectory = join(here, 'results');
      mkdirSync(profileDirectory, { recursive: true });
      await run(
        process.execPath,
        [
          '--cpu-prof',
          '--cpu-prof-dir',
          profileDirectory,
          binPath,
          ...benchArgs(sink.port, scenario, messages, true),
        ],
        { maxBuffer: 1 << 22 },
      );
    }
    results[scenario.name] = { sizeBytes, messages, samples };
    process.stderr.write(`  ${scenario.name} (${sizeBytes} bytes, ${messages} messages) done\n`);
  }
} finally {
  sink.stop();
}

const table = [];
for (const [name, { samples }] of Object.entries(results)) {
  const source = samples['smtp-source'];
  for (const generator of generators) {
    const list = samples[generator.id];
    const isSource = generator.id === 'smtp-source';
    const ratios = (pick) =>
      isSource ? '1' : range(list.map((entry, index) => pick(entry) / pick(source[index])));
    table.push({
      scenario: name,
      generator: generator.label,
      'msg/s': format(median(list.map((entry) => entry.messagesPerSecond))),
      'msg/s ratio': ratios((entry) => entry.messagesPerSecond),
      'w/o start-up': ratios((entry) => entry.steady.messagesPerSecond),
      'CPU µs/msg (kernel)': `${format(median(list.map((entry) => entry.cpuMicrosPerMessage)), 1)} (${format(median(list.map((entry) => entry.systemMicrosPerMessage)), 1)})`,
      'CPU/msg ratio': ratios((entry) => entry.cpuMicrosPerMessage),
      'CPU w/o start-up': ratios((entry) => entry.steady.cpuMicrosPerMessage),
    });
  }
}
console.table(table);
console.log(
  'ratios: to smtp-source in the same round, median (min–max) over the rounds; "w/o start-up": smtp bench\'s own\n' +
    'clock for msg/s, and its CPU less that of `smtp bench --help` (Node start-up and module loading)',
);
if (flags.only || flags.quick) {
  console.log('partial run (--only/--quick): results not written');
} else {
  mkdirSync(join(here, 'results'), { recursive: true });
  const file = join(here, 'results', 'latest.json');
  writeFileSync(
    file,
    `${JSON.stringify({ date: new Date().toISOString(), node: process.version, rounds, concurrency, results }, null, 2)}\n`,
  );
  console.log(`written: ${file}`);
}
