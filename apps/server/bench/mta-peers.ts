import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { startPostfix } from '@smtp/test-support';
import { appRoot, freePort, stopChild, waitForPort } from './support.js';

const run = promisify(execFile);

/** The domain every benchmark recipient is at; each MTA routes it to the counting sink. */
export const sinkDomain = 'bench.test';

/** One MTA under test: where to inject, and the process whose tree does its work. */
export interface MtaUnderTest {
  readonly name: 'ours' | 'postfix' | 'haraka';
  readonly smtpPort: number;
  /** The root of its process tree (our app; Postfix's master; Haraka's master). */
  rootPid(): number;
  stop(): Promise<void>;
}

/** One node of several on a shared PostgreSQL queue (bench/nodes.ts). */
export interface SharedQueueNode {
  /** postgres://… : storage.url. */
  readonly url: string;
  /** mta.hostname: each node its own, as the leases carry it. */
  readonly hostname: string;
}

/**
 * The built app in MTA mode: one relay listener open to 127.0.0.1, the durable SQLite queue
 * (WAL, synchronous=FULL: the 250 follows the fsync), `bench.test` routed to the sink. With `shared`,
 * the queue is on PostgreSQL instead (its commit is the durability then).
 */
export async function startOurMta(sinkPort: number, shared?: SharedQueueNode): Promise<MtaUnderTest> {
  const directory = mkdtempSync(join(tmpdir(), 'bench-mta-ours-'));
  const [smtpPort, httpPort] = [await freePort(), await freePort()];
  const config = {
    mode: 'mta',
    http: { host: '127.0.0.1', port: httpPort },
    storage: { dataDir: join(directory, 'data'), ...(shared === undefined ? {} : { url: shared.url }) },
    log: { level: 'warn' },
    mta: {
      hostname: shared?.hostname ?? 'mta.bench.test',
      relayNetworks: ['127.0.0.1/32'],
      listeners: [{ role: 'relay', host: '127.0.0.1', port: smtpPort }],
      transports: { [sinkDomain]: `127.0.0.1:${sinkPort}` },
    },
  };
  // JSON is YAML.
  writeFileSync(join(directory, 'smtp-app.yaml'), JSON.stringify(config));
  const child = spawn(process.execPath, [...nodeFlags(), join(appRoot, 'dist/main.js')], {
    env: { ...process.env, SMTP_APP_CONFIG: join(directory, 'smtp-app.yaml') },
    stdio: ['ignore', process.env.BENCH_APP_STDOUT ? 'inherit' : 'ignore', 'inherit'],
  });
  await waitForPort(smtpPort);
  return {
    name: 'ours',
    smtpPort,
    rootPid: () => child.pid as number,
    async stop() {
      await stopChild(child);
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** BENCH_NODE_FLAGS="--cpu-prof --cpu-prof-dir=…" profiles our app during the run. */
function nodeFlags(): string[] {
  return (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter((flag) => flag !== '');
}

/**
 * Debian's Postfix as a relay (its own config, queue and maillog in a temporary directory; see
 * @smtp/test-support startPostfix), `bench.test` sent to the sink by a transport map entry. Its
 * defaults otherwise: queue files fsynced before the 250, connection cache on demand.
 */
export async function startPostfixMta(sinkPort: number): Promise<MtaUnderTest> {
  const postfix = await startPostfix({
    hostname: 'postfix.bench.test',
    relays: [{ domain: sinkDomain, host: '127.0.0.1', port: sinkPort, tls: 'none' }],
    // The test-support instance logs TLS details and retries fast; a benchmark wants the defaults.
    settings: { smtpd_tls_loglevel: '0', smtp_tls_loglevel: '0' },
  });
  const masterPid = Number(readFileSync(join(postfix.directory, 'queue/pid/master.pid'), 'utf8').trim());
  return {
    name: 'postfix',
    smtpPort: postfix.port,
    rootPid: () => masterPid,
    stop: () => postfix.stop(),
  };
}

/** The Haraka plugin of the benchmark: loopback clients relay; every domain's MX is the sink. */
const harakaPlugin = (sinkPort: number) => `
exports.hook_connect_init = function (next, connection) {
  if (connection.remote.ip === '127.0.0.1') connection.relaying = true;
  next();
};
exports.hook_get_mx = function (next, hmail, domain) {
  next(OK, { exchange: '127.0.0.1', port: ${sinkPort}, priority: 10 });
};
`;

/**
 * Haraka (npm) in outbound mode: a config directory with smtp.ini (one worker per CPU, as its
 * performance guide advises), the plugin above, and outbound.ini allowing a loopback MX. Haraka
 * writes each message to its queue directory before the 250 but does not fsync it.
 */
export async function startHarakaMta(sinkPort: number): Promise<MtaUnderTest> {
  const directory = join(mkdtempSync(join(tmpdir(), 'bench-mta-haraka-')), 'haraka');
  const haraka = join(appRoot, 'node_modules/.bin/haraka');
  // `haraka -i` writes the skeleton (connection.ini and the rest Haraka needs), then ours replaces files.
  await run(haraka, ['-i', directory]);
  mkdirSync(join(directory, 'queue'));
  const smtpPort = await freePort();
  const files: Record<string, string> = {
    'config/smtp.ini': `listen=127.0.0.1:${smtpPort}\nnodes=cpus\n`,
    'config/plugins': 'bench_outbound\n',
    'config/outbound.ini': 'local_mx_ok=true\nenable_tls=false\n',
    'config/log.ini': '[main]\nlevel=warn\n',
    'config/me': 'haraka.bench.test\n',
    'config/databytes': String(20 * 1024 * 1024),
    'plugins/bench_outbound.js': harakaPlugin(sinkPort),
  };
  for (const [path, content] of Object.entries(files)) writeFileSync(join(directory, path), content);
  const child: ChildProcess = spawn(haraka, ['-c', directory], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitForPort(smtpPort, 60_000);
  return {
    name: 'haraka',
    smtpPort,
    rootPid: () => child.pid as number,
    async stop() {
      await stopChild(child);
      rmSync(dirname(directory), { recursive: true, force: true });
    },
  };
}
