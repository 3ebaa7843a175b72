// Ingest throughput, ours (durable: WAL + synchronous=FULL, 250 after commit) vs MailDev, same run,
// same client: 10 connections, 1 KB and 100 KB messages. Also ours with adaptive parse commits (the
// default) against the same build with the fixed 20 ms parse window, the A/B of issue 15 item 3.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeMessage, runSmtpLoad } from './smtp-load.js';
import { freePort, saveResults, startMaildev, startOurApp, stopChild } from './support.js';

const concurrency = 10;
/** BENCH_INGEST_SCENARIOS="1 KB" runs only the named ones. */
const only = process.env.BENCH_INGEST_SCENARIOS?.split(',').map((name) => name.trim());
const allScenarios = [
  // Warm-up long enough for both servers' JIT: MailDev gets ~2× faster over its first thousand messages.
  { name: '1 KB', sizeBytes: 1024, totalMessages: 3000, warmupMessages: 2000 },
  { name: '100 KB', sizeBytes: 100 * 1024, totalMessages: 600, warmupMessages: 300 },
];
const scenarios = allScenarios.filter((scenario) => only === undefined || only.includes(scenario.name));

/** Samples per server and scenario, taken alternately (A B, B A, …) so drift on this shared machine hits both. */
const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 5));
const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};

/**
 * Our 250 follows the durable commit of the raw message; parsing and indexing follow it. So that the
 * figure is a rate the app sustains, a sample ends only once every message is also parsed and
 * searchable: when the newest message in the inbox list is parsed (the list waits for pending
 * parses, at most 2 s per request).
 */
async function waitUntilParsed(httpPort: number): Promise<void> {
  for (;;) {
    const response = await fetch(`http://127.0.0.1:${httpPort}/api/v1/messages?limit=1`);
    const page = (await response.json()) as { messages: { isParsed: boolean }[] };
    if (page.messages[0]?.isParsed === true) return;
  }
}

const results: Record<string, unknown>[] = [];
for (const scenario of scenarios) {
  const message = makeMessage(scenario.sizeBytes);
  const ours = mkdtempSync(join(tmpdir(), 'bench-ours-'));
  const windowed = mkdtempSync(join(tmpdir(), 'bench-windowed-'));
  const theirs = mkdtempSync(join(tmpdir(), 'bench-maildev-'));
  const [smtpPort, httpPort, windowedSmtpPort, windowedHttpPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const app = await startOurApp({ dataDir: ours, smtpPort, httpPort });
  // A/B: the same build with the fixed 20 ms parse window (storage.parseCommit=windowed), the
  // policy before adaptive parse commits, so the run shows what adaptive costs at load.
  const windowedApp = await startOurApp({
    dataDir: windowed,
    smtpPort: windowedSmtpPort,
    httpPort: windowedHttpPort,
    parseCommit: 'windowed',
  });
  const maildev = await startMaildev(theirs);
  const ports = { ours: smtpPort, windowed: windowedSmtpPort, maildev: maildev.smtpPort };
  const httpPorts: Partial<Record<keyof typeof ports, number>> = {
    ours: httpPort,
    windowed: windowedHttpPort,
  };
  // Warm every server up (JIT, page cache). Our apps also parse the warm-up before the first sample.
  for (const [name, port] of Object.entries(ports)) {
    await runSmtpLoad({ port, concurrency, totalMessages: scenario.warmupMessages, message });
    const http = httpPorts[name as keyof typeof ports];
    if (http !== undefined) await waitUntilParsed(http);
  }
  const samples: Record<keyof typeof ports, number[]> = { ours: [], windowed: [], maildev: [] };
  const names = Object.keys(ports) as (keyof typeof ports)[];
  for (let round = 0; round < rounds; round++) {
    // Each server goes first, second and last in turn.
    const order = names.map((_, index) => names[(index + round) % names.length] as keyof typeof ports);
    for (const name of order) {
      const begin = performance.now();
      await runSmtpLoad({ port: ports[name], concurrency, totalMessages: scenario.totalMessages, message });
      const http = httpPorts[name];
      if (http !== undefined) await waitUntilParsed(http);
      samples[name].push(scenario.totalMessages / ((performance.now() - begin) / 1000));
    }
  }
  await stopChild(app);
  await stopChild(windowedApp);
  await stopChild(maildev.child);
  for (const directory of [ours, windowed, theirs]) rmSync(directory, { recursive: true, force: true });
  const ratios = samples.ours.map((value, index) => value / (samples.maildev[index] as number));
  const abRatios = samples.ours.map((value, index) => value / (samples.windowed[index] as number));
  const [oursMedian, windowedMedian, maildevMedian] = [
    median(samples.ours),
    median(samples.windowed),
    median(samples.maildev),
  ];
  const ratio = oursMedian / maildevMedian;
  const abRatio = oursMedian / windowedMedian;
  results.push({
    scenario: scenario.name,
    messageBytes: message.byteLength,
    concurrency,
    messages: scenario.totalMessages,
    rounds,
    oursMessagesPerSecond: Math.round(oursMedian),
    windowedMessagesPerSecond: Math.round(windowedMedian),
    maildevMessagesPerSecond: Math.round(maildevMedian),
    ratio: Number(ratio.toFixed(2)),
    roundRatios: ratios.map((each) => Number(each.toFixed(2))),
    adaptiveOverWindowed: Number(abRatio.toFixed(2)),
    roundAdaptiveOverWindowed: abRatios.map((each) => Number(each.toFixed(2))),
    samples,
  });
  console.log(
    `ingest ${scenario.name.padEnd(6)} c=${concurrency}: ours ${oursMedian.toFixed(0)} msg/s, ` +
      `MailDev ${maildevMedian.toFixed(0)} msg/s, ratio ${ratio.toFixed(2)}x (medians of ${rounds}; ` +
      `per round ${ratios.map((each) => each.toFixed(2)).join(' ')})`,
  );
  console.log(
    `ingest ${scenario.name.padEnd(6)} c=${concurrency}: adaptive parse commits ${oursMedian.toFixed(0)} msg/s, ` +
      `windowed (before) ${windowedMedian.toFixed(0)} msg/s, ratio ${abRatio.toFixed(2)}x ` +
      `(per round ${abRatios.map((each) => each.toFixed(2)).join(' ')})`,
  );
}
saveResults('ingest', { date: new Date().toISOString(), node: process.version, results });
