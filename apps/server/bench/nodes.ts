// Several MTA nodes on one PostgreSQL (issue 17): end-to-end delivered messages/s with one, two and
// three app nodes sharing one PostgreSQL queue, and the same workload on one node with SQLite, in one
// run. Postfix's smtp-source injects 1 KB messages (the total concurrency split over the nodes) into
// the nodes' relay listeners; every node delivers to one counting sink. Alternating per round.
//   node bench/run.mjs nodes
//   BENCH_ROUNDS=5 BENCH_MESSAGES=2000 node bench/run.mjs nodes
// The machine's cores bound the scaling: every node, PostgreSQL and the load share them.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type PostgresInstance, requireTool, startPostgres } from '@smtp/test-support';
import { type CountingSink, startCountingSink } from './counting-sink.js';
import { type MtaUnderTest, sinkDomain, startOurMta } from './mta-peers.js';
import { processTreeUsage } from './process-tree-cpu.js';
import { saveResults } from './support.js';

const run = promisify(execFile);
const smtpSource = requireTool('/usr/sbin/smtp-source', 'apt-get install postfix');
/** Divisible by 1, 2 and 3: every setup gets the same total concurrency. */
const totalConcurrency = 12;
const rounds = Math.max(3, Number(process.env.BENCH_ROUNDS ?? 3));
const messages = Number(process.env.BENCH_MESSAGES ?? 1200);
const warmup = Math.round(messages / 4);
const stallMs = 60_000;

interface Setup {
  readonly name: string;
  readonly nodes: readonly MtaUnderTest[];
}

interface RoundSample {
  readonly deliveredPerSecond: number;
  /** Every node's process tree, and PostgreSQL's (none for SQLite), per message. */
  readonly nodeCpuMsPerMessage: number;
  readonly postgresCpuMsPerMessage: number;
  /** Delivered minus injected: negative when messages were lost, positive when duplicated. */
  readonly surplus: number;
}

function messageFile(directory: string): string {
  const header = `From: load@source.test\nTo: sink@${sinkDomain}\nSubject: nodes benchmark\n\n`;
  const line = `${'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempo'.slice(0, 76)}\n`;
  const path = join(directory, 'message-1k.txt');
  writeFileSync(path, header + line.repeat(12));
  return path;
}

/** Injects `count` messages spread evenly over the setup's nodes; waits until the sink has them all. */
async function measure(
  setup: Setup,
  sink: CountingSink,
  file: string,
  count: number,
  postgresPid: number | null,
): Promise<RoundSample> {
  sink.reset();
  const cpuOf = (pids: readonly number[]) =>
    pids.reduce((sum, pid) => sum + processTreeUsage(pid).cpuSeconds, 0);
  const nodePids = setup.nodes.map((node) => node.rootPid());
  const postgresPids = setup.name === 'sqlite' || postgresPid === null ? [] : [postgresPid];
  const [nodesBefore, postgresBefore] = [cpuOf(nodePids), cpuOf(postgresPids)];
  const begin = performance.now();
  const perNode = Math.ceil(count / setup.nodes.length);
  const concurrency = totalConcurrency / setup.nodes.length;
  await Promise.all(
    setup.nodes.map((node) =>
      run(smtpSource, [
        ...['-s', String(concurrency), '-m', String(perNode), '-d', '-F', file],
        ...['-f', 'load@source.test', '-t', `sink@${sinkDomain}`, '-M', 'source.test'],
        `127.0.0.1:${node.smtpPort}`,
      ]),
    ),
  );
  const injected = perNode * setup.nodes.length;
  let delivered = injected;
  try {
    await sink.waitForCount(injected, stallMs);
  } catch {
    delivered = sink.count;
  }
  const elapsedS = (performance.now() - begin) / 1000;
  const [nodesAfter, postgresAfter] = [cpuOf(nodePids), cpuOf(postgresPids)];
  return {
    deliveredPerSecond: delivered / elapsedS,
    nodeCpuMsPerMessage: ((nodesAfter - nodesBefore) * 1000) / injected,
    postgresCpuMsPerMessage: ((postgresAfter - postgresBefore) * 1000) / injected,
    surplus: delivered - injected,
  };
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};

const workDirectory = mkdtempSync(join(tmpdir(), 'bench-nodes-'));
const sink = await startCountingSink();
let postgres: PostgresInstance | null = null;
const setups: Setup[] = [];
try {
  postgres = await startPostgres();
  const postmasterPid = Number(
    readFileSync(join(postgres.dataDirectory, 'postmaster.pid'), 'utf8').split('\n')[0],
  );
  setups.push({ name: 'sqlite', nodes: [await startOurMta(sink.port)] });
  for (const nodeCount of [1, 2, 3]) {
    const url = await postgres.createDatabase(`bench_nodes_${nodeCount}`);
    const nodes: MtaUnderTest[] = [];
    // One after the other: the first migrates, the others find the schema ready.
    for (let index = 1; index <= nodeCount; index++)
      nodes.push(await startOurMta(sink.port, { url, hostname: `node${index}.bench.test` }));
    setups.push({ name: `postgres×${nodeCount}`, nodes });
  }
  const file = messageFile(workDirectory);
  for (const setup of setups) await measure(setup, sink, file, warmup, postmasterPid);
  const samples = new Map<string, RoundSample[]>(setups.map((setup) => [setup.name, []]));
  for (let round = 0; round < rounds; round++) {
    // A different setup goes first each round, so drift on this shared machine hits all of them.
    const order = setups.map((_, index) => setups[(index + round) % setups.length] as Setup);
    for (const setup of order)
      samples.get(setup.name)?.push(await measure(setup, sink, file, messages, postmasterPid));
  }
  const of = (name: string) => samples.get(name) as RoundSample[];
  /** Per round, so both sides of a ratio saw the same load on the machine. */
  const ratio = (name: string, base: string) =>
    median(
      of(name).map((sample, index) => sample.deliveredPerSecond / (of(base)[index]?.deliveredPerSecond ?? 1)),
    );
  const summary = setups.map(({ name, nodes }) => {
    const rows = of(name);
    return {
      setup: name,
      nodes: nodes.length,
      deliveredPerSecond: Math.round(median(rows.map((sample) => sample.deliveredPerSecond))),
      perRound: rows.map((sample) => Math.round(sample.deliveredPerSecond)),
      nodeCpuMsPerMessage: Number(median(rows.map((sample) => sample.nodeCpuMsPerMessage)).toFixed(2)),
      postgresCpuMsPerMessage: Number(
        median(rows.map((sample) => sample.postgresCpuMsPerMessage)).toFixed(2),
      ),
      lostOrDuplicated: rows.reduce((sum, sample) => sum + Math.abs(sample.surplus), 0),
      overOnePostgresNode: Number(ratio(name, 'postgres×1').toFixed(2)),
      overSqlite: Number(ratio(name, 'sqlite').toFixed(2)),
    };
  });
  for (const row of summary)
    console.log(
      `nodes ${row.setup.padEnd(11)} ${String(row.deliveredPerSecond).padStart(5)} delivered/s (rounds ${row.perRound.join(', ')}), ` +
        `CPU/msg nodes ${row.nodeCpuMsPerMessage.toFixed(2)} ms + PostgreSQL ${row.postgresCpuMsPerMessage.toFixed(2)} ms, ` +
        `×${row.overOnePostgresNode.toFixed(2)} of one PostgreSQL node, ×${row.overSqlite.toFixed(2)} of SQLite, ` +
        `lost or duplicated ${row.lostOrDuplicated}`,
    );
  console.log(
    `nodes: ${messages} × 1 KB per round, smtp-source c=${totalConcurrency} split over the nodes, ${rounds} rounds, ` +
      `${availableParallelism()} CPUs; ratios are medians of per-round ratios`,
  );
  saveResults('nodes', { messages, totalConcurrency, rounds, cpus: availableParallelism(), summary });
} finally {
  for (const setup of setups) for (const node of setup.nodes) await node.stop();
  await postgres?.stop();
  await sink.close();
  rmSync(workDirectory, { recursive: true, force: true });
}
