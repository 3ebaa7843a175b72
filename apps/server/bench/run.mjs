// Runs the benchmarks: bundles bench/*.ts with esbuild (workspace sources via the "source"
// condition, npm packages external) and runs them one after the other on the built app.
//   node bench/run.mjs            ingest, visibility and api
//   node bench/run.mjs ingest     only ingest vs MailDev
//   node bench/run.mjs api        only API latency at 100,000 messages
//   node bench/run.mjs mta        our MTA vs Postfix and Haraka, end to end (root, Postfix installed)
//   node bench/run.mjs visibility only 250 → listed in the API, vs MailDev (issue 15 item 3)
//   node bench/run.mjs threads    where our app's time goes per thread (Linux; not part of 'all')
//   node bench/run.mjs checks     what each inbound check costs per message (not part of 'all')
//   node bench/run.mjs inbound    mx listener → Maildir, checks off vs on, via smtp-source (not part of 'all')
//   node bench/run.mjs nodes      1, 2 and 3 MTA nodes on one PostgreSQL vs SQLite (not part of 'all')
//   node bench/run.mjs capture-pg capture API latency, PostgreSQL vs SQLite, 10,000 messages (not part of 'all')
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const benchDir = dirname(fileURLToPath(import.meta.url));
const appRoot = join(benchDir, '..');
const outdir = join(benchDir, 'results', '.build');
mkdirSync(outdir, { recursive: true });
const which = process.argv[2] ?? 'all';
const entries = {
  ingest: 'ingest.ts',
  visibility: 'visibility.ts',
  api: 'api-latency.ts',
  mta: 'mta.ts',
  'queue-api': 'queue-api-latency.ts',
  threads: 'thread-cpu.ts',
  checks: 'inbound-checks.ts',
  inbound: 'inbound.ts',
  nodes: 'nodes.ts',
  'capture-pg': 'capture-pg-latency.ts',
};
const selected = which === 'all' ? ['ingest', 'visibility', 'api', 'mta', 'queue-api'] : [which];

/** npm packages stay external; @smtp/test-support ships TypeScript only, so it is bundled. */
const bundleTestSupport = {
  name: 'bundle-test-support',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) =>
      args.path.startsWith('@smtp/test-support') ? undefined : { path: args.path, external: true },
    );
  },
};

execFileSync('pnpm', ['run', 'build'], { cwd: appRoot, stdio: 'inherit' });
for (const name of selected) {
  const entry = entries[name];
  if (entry === undefined)
    throw new Error(
      `Unknown benchmark ${name}: use ingest, visibility, api, mta, queue-api, threads, checks, inbound, nodes, capture-pg or nothing`,
    );
  await build({
    entryPoints: [join(benchDir, entry)],
    outfile: join(outdir, `${name}.mjs`),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['source'],
    plugins: [bundleTestSupport],
    logLevel: 'warning',
  });
  await import(pathToFileURL(join(outdir, `${name}.mjs`)).href);
}
