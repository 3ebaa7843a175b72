// Where our app's time goes at ingest: CPU and run-queue wait per message for each of its threads
// (Linux /proc/<pid>/task/*/{stat,schedstat}), the load generator's own CPU, and the mean time from
// DATA to the 250 (the app's smtp_ingest_duration_seconds). Same load as the ingest benchmark.
//   node bench/run.mjs threads                 1 KB, 8,000 messages
//   BENCH_SIZE=102400 BENCH_MESSAGES=1500 node bench/run.mjs threads
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeMessage, runSmtpLoad } from './smtp-load.js';
import { freePort, startOurApp, stopChild } from './support.js';

const sizeBytes = Number(process.env.BENCH_SIZE ?? 1024);
const totalMessages = Number(process.env.BENCH_MESSAGES ?? 8000);
const concurrency = 10;
const clockTicksPerSecond = 100; // USER_HZ on Linux

interface ThreadSample {
  readonly name: string;
  readonly cpuTicks: number;
  readonly waitNs: number;
  readonly runs: number;
}

function sampleThreads(pid: number): Map<string, ThreadSample> {
  const samples = new Map<string, ThreadSample>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const [, waitNs, runs] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').trim().split(' ');
      samples.set(tid, {
        name,
        cpuTicks: Number(fields[11]) + Number(fields[12]), // utime + stime
        waitNs: Number(waitNs),
        runs: Number(runs),
      });
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return samples;
}

async function meanIngestMs(httpPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  return (value('smtp_ingest_duration_seconds_sum') / value('smtp_ingest_duration_seconds_count')) * 1000;
}

const dataDir = mkdtempSync(join(tmpdir(), 'bench-threads-'));
const [smtpPort, httpPort] = [await freePort(), await freePort()];
const app = await startOurApp({ dataDir, smtpPort, httpPort });
const message = makeMessage(sizeBytes);
try {
  await runSmtpLoad({ port: smtpPort, concurrency, totalMessages: Math.min(1000, totalMessages), message });
  await new Promise((resolve) => setTimeout(resolve, 1500)); // the warm-up's parses settle
  const pid = app.pid as number; // its main thread has the process id; workers show as 'node'
  const before = sampleThreads(pid);
  const loadCpuBefore = process.cpuUsage();
  const begin = performance.now();
  await runSmtpLoad({ port: smtpPort, concurrency, totalMessages, message });
  const elapsedS = (performance.now() - begin) / 1000;
  await new Promise((resolve) => setTimeout(resolve, 300));
  const after = sampleThreads(pid);
  const loadCpu = process.cpuUsage(loadCpuBefore);
  const perMessage = (value: number) => (value / totalMessages).toFixed(1);
  console.log(
    `${totalMessages} × ${sizeBytes} B, c=${concurrency}: ${(totalMessages / elapsedS).toFixed(0)} msg/s, ` +
      `mean DATA→250 ${(await meanIngestMs(httpPort)).toFixed(2)} ms, ` +
      `load generator ${perMessage(loadCpu.user + loadCpu.system)} µs CPU/msg`,
  );
  let totalUs = 0;
  for (const [tid, end] of after) {
    const start = before.get(tid) ?? { cpuTicks: 0, waitNs: 0, runs: 0 };
    const cpuUs = ((end.cpuTicks - start.cpuTicks) * 1e6) / clockTicksPerSecond;
    totalUs += cpuUs;
    if (cpuUs / totalMessages < 1) continue;
    console.log(
      `  thread ${tid} ${(tid === String(pid) ? 'main' : end.name).padEnd(16)} CPU ${perMessage(cpuUs).padStart(7)} µs/msg, ` +
        `run-queue wait ${perMessage((end.waitNs - start.waitNs) / 1000).padStart(6)} µs/msg, ` +
        `${((end.runs - start.runs) / totalMessages).toFixed(2)} runs/msg`,
    );
  }
  console.log(`  app total CPU ${perMessage(totalUs)} µs/msg`);
} finally {
  await stopChild(app);
  rmSync(dataDir, { recursive: true, force: true });
}
