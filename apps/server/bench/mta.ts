// End-to-end MTA throughput with durability: Postfix's smtp-source injects 1 KB and 100 KB messages
// at concurrency 10 into three relays, each delivering to the same counting sink: our app in MTA
// mode, Debian's Postfix and Haraka (npm). Alternating per round; delivered messages/s (counted at
// the sink), CPU per message of each relay's process tree, zero loss; then the time from the 250 to
// the delivery at low load, ours vs Postfix.
//   node bench/run.mjs mta                     (needs root for Postfix's master, and smtp-source)
//   BENCH_ROUNDS=5 BENCH_SCALE=2 node bench/run.mjs mta
//   BENCH_SCENARIOS="100 KB" BENCH_PEERS=postfix node bench/run.mjs mta
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { requireTool } from '@smtp/test-support';
import { type CountingSink, startCountingSink } from './counting-sink.js';
import { type MtaUnderTest, sinkDomain, startHarakaMta, startOurMta, startPostfixMta } from './mta-peers.js';
import { sendOneMessage } from './one-message.js';
import { processTreeUsage } from './process-tree-cpu.js';
import { percentile, saveResults } from './support.js';

const run = promisify(execFile);
const smtpSource = requireTool('/usr/sbin/smtp-source', 'apt-get install postfix');
const concurrency = 10;
const rounds = Math.max(3, Number(process.env.BENCH_ROUNDS ?? 3));
const scale = Number(process.env.BENCH_SCALE ?? 1);
const scenarios = [
  { name: '1 KB', sizeBytes: 1024, messages: Math.round(2000 * scale), warmup: Math.round(500 * scale) },
  {
    name: '100 KB',
    sizeBytes: 100 * 1024,
    messages: Math.round(400 * scale),
    warmup: Math.round(100 * scale),
  },
] as const;
const latencyProbes = Math.round(200 * scale);
/** BENCH_SCENARIOS="100 KB" runs one size only (names as printed, comma-separated); default both. */
const selectedScenarios = (process.env.BENCH_SCENARIOS ?? scenarios.map((each) => each.name).join(','))
  .split(',')
  .map((name) => name.trim());
/**
 * BENCH_PEERS=postfix for a quicker run while working on our side, BENCH_PEERS= for ours alone
 * (with BENCH_NODE_FLAGS="--cpu-prof --cpu-prof-dir=DIR" to profile it); default both.
 */
const peers = (process.env.BENCH_PEERS ?? 'postfix,haraka').split(',').filter((peer) => peer !== '');
/** A round that makes no progress for this long has lost messages (or the relay is stuck). */
const stallMs = 60_000;

/** A message file for smtp-source -F: LF line ends (it sends CRLF), nothing that needs dot-stuffing. */
function messageFile(directory: string, sizeBytes: number): string {
  const header = `From: load@source.test\nTo: sink@${sinkDomain}\nSubject: mta benchmark\nMIME-Version: 1.0\nContent-Type: text/plain\n\n`;
  const line = `${'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempo'.slice(0, 76)}\n`;
  let body = '';
  // Counted with CRLF line ends, as sent.
  const sentLength = (text: string) => text.length + (text.match(/\n/g)?.length ?? 0);
  while (sentLength(header + body + line) <= sizeBytes) body += line;
  const path = join(directory, `message-${sizeBytes}.txt`);
  writeFileSync(path, header + body);
  return path;
}

/** smtp-source sends `messages` copies of `file` to the port, 10 sessions at a time, and exits. */
async function inject(port: number, file: string, messages: number): Promise<void> {
  await run(smtpSource, [
    ...['-s', String(concurrency), '-m', String(messages), '-d', '-F', file],
    ...['-f', 'load@source.test', '-t', `sink@${sinkDomain}`, '-M', 'source.test'],
    `127.0.0.1:${port}`,
  ]);
}

interface RoundSample {
  readonly deliveredPerSecond: number;
  /** Until smtp-source got its last 250: how fast the relay accepted (its delivery may lag). */
  readonly acceptedPerSecond: number;
  readonly cpuMsPerMessage: number;
  /** Time its threads waited for a CPU, per message (approximate, see TreeUsage). */
  readonly runQueueWaitMsPerMessage: number;
  readonly delivered: number;
  readonly injected: number;
}

/** Injects `messages` with smtp-source and waits until the sink counted them all (or stalls). */
async function measure(
  mta: MtaUnderTest,
  sink: CountingSink,
  file: string,
  messages: number,
): Promise<RoundSample> {
  sink.reset();
  const before = processTreeUsage(mta.rootPid());
  const begin = performance.now();
  await inject(mta.smtpPort, file, messages);
  const acceptedS = (performance.now() - begin) / 1000;
  let delivered = messages;
  try {
    await sink.waitForCount(messages, stallMs);
  } catch {
    delivered = sink.count;
  }
  const elapsedS = (performance.now() - begin) / 1000;
  const after = processTreeUsage(mta.rootPid());
  // Duplicates show up after the last expected one, if at all.
  await new Promise((resolve) => setTimeout(resolve, 300));
  delivered = Math.max(delivered, sink.count);
  return {
    deliveredPerSecond: Math.min(delivered, messages) / elapsedS,
    acceptedPerSecond: messages / acceptedS,
    cpuMsPerMessage: ((after.cpuSeconds - before.cpuSeconds) * 1000) / messages,
    runQueueWaitMsPerMessage: ((after.runQueueWaitSeconds - before.runQueueWaitSeconds) * 1000) / messages,
    delivered,
    injected: messages,
  };
}

/**
 * The harness alone: smtp-source straight into the sink, no relay. What it costs per message (this
 * process, where the sink runs, plus smtp-source, reaped) bounds every relay's rate on these cores:
 * a relay using R ms of CPU per message cannot deliver more than cores / (R + harness) messages/s.
 */
async function measureHarness(
  sink: CountingSink,
  file: string,
  messages: number,
): Promise<{ perSecond: number; cpuMsPerMessage: number }> {
  sink.reset();
  const before = processTreeUsage(process.pid);
  const begin = performance.now();
  await inject(sink.port, file, messages);
  await sink.waitForCount(messages, stallMs);
  const elapsedS = (performance.now() - begin) / 1000;
  const after = processTreeUsage(process.pid);
  return {
    perSecond: messages / elapsedS,
    cpuMsPerMessage: ((after.cpuSeconds - before.cpuSeconds) * 1000) / messages,
  };
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};
const range = (values: readonly number[]) =>
  `${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)}`;

const workDirectory = mkdtempSync(join(tmpdir(), 'bench-mta-'));
const sink = await startCountingSink();
const mtas: MtaUnderTest[] = [];
try {
  mtas.push(await startOurMta(sink.port));
  if (peers.includes('postfix')) mtas.push(await startPostfixMta(sink.port));
  if (peers.includes('haraka')) mtas.push(await startHarakaMta(sink.port));
  const names = mtas.map((mta) => mta.name);
  const others = names.filter((name) => name !== 'ours');
  const throughput: Record<string, unknown>[] = [];
  for (const scenario of scenarios.filter((each) => selectedScenarios.includes(each.name))) {
    const file = messageFile(workDirectory, scenario.sizeBytes);
    for (const mta of mtas) await measure(mta, sink, file, scenario.warmup);
    const samples = new Map<string, RoundSample[]>(names.map((name) => [name, []]));
    for (let round = 0; round < rounds; round++) {
      // A different relay goes first each round, so drift on this shared machine hits all three.
      const order = mtas.map((_, index) => mtas[(index + round) % mtas.length] as MtaUnderTest);
      for (const mta of order) samples.get(mta.name)?.push(await measure(mta, sink, file, scenario.messages));
    }
    const of = (name: string) => samples.get(name) as RoundSample[];
    const ratios = (other: string) =>
      of('ours').map(
        (sample, index) => sample.deliveredPerSecond / (of(other)[index]?.deliveredPerSecond ?? 1),
      );
    const summary = Object.fromEntries(
      names.map((name) => [
        name,
        {
          deliveredPerSecond: Math.round(median(of(name).map((sample) => sample.deliveredPerSecond))),
          acceptedPerSecond: Math.round(median(of(name).map((sample) => sample.acceptedPerSecond))),
          cpuMsPerMessage: Number(median(of(name).map((sample) => sample.cpuMsPerMessage)).toFixed(3)),
          runQueueWaitMsPerMessage: Number(
            median(of(name).map((sample) => sample.runQueueWaitMsPerMessage)).toFixed(3),
          ),
          lost: of(name).reduce((sum, sample) => sum + Math.max(0, sample.injected - sample.delivered), 0),
          duplicated: of(name).reduce(
            (sum, sample) => sum + Math.max(0, sample.delivered - sample.injected),
            0,
          ),
        },
      ]),
    );
    const versus = Object.fromEntries(others.map((other) => [other, ratios(other)]));
    const harness = await measureHarness(sink, file, scenario.messages * 2);
    const cores = availableParallelism();
    const ceilings = Object.fromEntries(
      names.map((name) => {
        const cpuMs = (summary[name] as { cpuMsPerMessage: number }).cpuMsPerMessage;
        return [name, Math.round((cores * 1000) / (cpuMs + harness.cpuMsPerMessage))];
      }),
    );
    throughput.push({
      scenario: scenario.name,
      messageBytes: scenario.sizeBytes,
      concurrency,
      messagesPerRound: scenario.messages,
      rounds,
      ...summary,
      oursOver: Object.fromEntries(
        Object.entries(versus).map(([other, values]) => [
          other,
          {
            median: Number(median(values).toFixed(2)),
            rounds: values.map((ratio) => Number(ratio.toFixed(2))),
          },
        ]),
      ),
      samples: Object.fromEntries(samples),
      harness: {
        perSecond: Math.round(harness.perSecond),
        cpuMsPerMessage: Number(harness.cpuMsPerMessage.toFixed(3)),
        cores,
        ceilingPerSecond: ceilings,
      },
    });
    for (const name of names) {
      const figures = summary[name] as {
        deliveredPerSecond: number;
        acceptedPerSecond: number;
        cpuMsPerMessage: number;
        runQueueWaitMsPerMessage: number;
        lost: number;
        duplicated: number;
      };
      console.log(
        `mta ${scenario.name.padEnd(6)} ${name.padEnd(7)} ${String(figures.deliveredPerSecond).padStart(5)} delivered/s ` +
          `(accepted ${figures.acceptedPerSecond}/s), ${figures.cpuMsPerMessage.toFixed(2)} ms CPU/msg, ` +
          `${figures.runQueueWaitMsPerMessage.toFixed(2)} ms run-queue wait/msg, ` +
          `lost ${figures.lost}, duplicated ${figures.duplicated}`,
      );
    }
    console.log(
      `mta ${scenario.name.padEnd(6)} harness smtp-source → sink directly ${Math.round(harness.perSecond)}/s, ` +
        `${harness.cpuMsPerMessage.toFixed(2)} ms CPU/msg; on ${cores} CPUs at its CPU/msg a relay delivers at most ` +
        Object.entries(ceilings)
          .map(([name, ceiling]) => `${name} ${ceiling}/s`)
          .join(', '),
    );
    if (others.length > 0)
      console.log(
        `mta ${scenario.name.padEnd(6)} ${Object.entries(versus)
          .map(([other, values]) => `ours/${other} ${median(values).toFixed(2)}x (rounds ${range(values)})`)
          .join(', ')}; delivered/s, medians of ${rounds}`,
      );
  }

  // Time from the 250 to the delivery at low load: one message at a time, ours and Postfix alternately.
  const latencyMtas = mtas.filter((mta) => mta.name === 'ours' || mta.name === 'postfix');
  const latency: Record<string, number[]> = Object.fromEntries(latencyMtas.map((mta) => [mta.name, []]));
  for (let probe = 0; probe < latencyProbes; probe++) {
    for (const mta of probe % 2 === 0 ? latencyMtas : [...latencyMtas].reverse()) {
      const token = `${mta.name}-${probe}`;
      const arrival = sink.arrivalOf(token);
      const acceptedAt = await sendOneMessage({ port: mta.smtpPort, token, recipient: `sink@${sinkDomain}` });
      latency[mta.name]?.push((await arrival) - acceptedAt);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  const latencySummary = Object.fromEntries(
    Object.entries(latency).map(([name, values]) => {
      const sorted = [...values].sort((a, b) => a - b);
      return [
        name,
        {
          p50Ms: Number(percentile(sorted, 0.5).toFixed(1)),
          p99Ms: Number(percentile(sorted, 0.99).toFixed(1)),
        },
      ];
    }),
  );
  for (const [name, figures] of Object.entries(latencySummary))
    console.log(
      `mta 250→delivered ${name.padEnd(7)} p50 ${figures.p50Ms} ms  p99 ${figures.p99Ms} ms (${latencyProbes} messages, one at a time)`,
    );
  saveResults('mta', {
    date: new Date().toISOString(),
    node: process.version,
    throughput,
    latencyFrom250ToDelivery: { probes: latencyProbes, ...latencySummary },
  });
} finally {
  for (const mta of mtas) await mta.stop();
  await sink.close();
  rmSync(workDirectory, { recursive: true, force: true });
}
