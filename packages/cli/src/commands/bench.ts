import { type Mailbox, parseMailbox, prepareMessage } from '@smtp/protocol';
import { Command, Option } from 'commander';
import { createBenchMessage } from '../bench/bench-message.js';
import { BenchStatistics, type BenchSummary } from '../bench/bench-statistics.js';
import { benchTimeouts } from '../bench/bench-timeouts.js';
import { runBenchLoad } from '../bench/run-bench-load.js';
import { usageError } from '../cli-error.js';
import { type ExitCode, exitCodes } from '../exit-codes.js';
import { abortOnInterrupt } from '../interrupt.js';
import {
  addAuthOptions,
  addServerOption,
  addTlsOptions,
  type ConnectionFlags,
  resolveConnection,
} from '../options/connection-options.js';
import { parseDurationMs, parseInteger, parseSizeBytes } from '../options/parse-number.js';
import { formatServerAddress } from '../options/parse-server.js';
import { createProgress } from '../output/progress.js';
import { printJson, type Terminal } from '../output/terminal.js';
import type { CommandContext } from '../program-context.js';

interface BenchFlags extends ConnectionFlags {
  readonly count?: string;
  readonly concurrency?: string;
  readonly size?: string;
  readonly pipelining?: boolean;
  readonly duration?: string;
  readonly from?: string;
  readonly to?: string;
  readonly json?: boolean;
}

const examples = `
Examples:
  $ smtp bench --server 127.0.0.1:2525 --count 10000 --concurrency 20
  $ smtp bench -s mx.test:25 --duration 30s --size 100k --no-pipelining
  $ smtp bench -s 127.0.0.1:2525 --count 500 --json > result.json

Only benchmark servers you run or may load: this sends as fast as the server accepts.
Exit codes: 0 every message accepted, 2/3 all failed with 4xx/5xx, 4 all failed on the network,
            5 some failed (see "errors by reply code")
`;

export function createBenchCommand(context: CommandContext): Command {
  const command = new Command('bench')
    .summary('load-test a server: messages/s, MB/s, latency percentiles, errors by reply code')
    .description(
      'Send many messages over a pool of connections and report throughput, latency p50/p95/p99 and failures by reply code.',
    );
  addServerOption(command, 'server to load (default localhost:25)');
  command
    .option('-n, --count <n>', 'messages to send (default 1000; with --duration: no limit)')
    .option('-c, --concurrency <n>', 'connections in parallel', '10')
    .option('--size <bytes>', 'message size, e.g. 2048, 10k, 1M', '10k')
    .option('--pipelining', 'use PIPELINING when offered (default)')
    .option('--no-pipelining', 'one command per round trip')
    .option('--duration <time>', 'send for this long, e.g. 30s, 2m')
    .addOption(
      new Option('-f, --from <address>', 'envelope sender')
        .default('bench@smtp-bench.invalid')
        .env('SMTP_FROM'),
    )
    .option('-t, --to <address>', 'recipient', 'sink@smtp-bench.invalid');
  addTlsOptions(command, { lmtp: true });
  addAuthOptions(command);
  command
    .option('--json', 'print one JSON document (schemas/bench.schema.json)')
    .addHelpText('after', examples)
    .action(async (flags: BenchFlags) => {
      context.setExitCode(await runBench(flags, context.terminal));
    });
  return command;
}

async function runBench(flags: BenchFlags, terminal: Terminal): Promise<ExitCode> {
  const durationMs = flags.duration === undefined ? null : parseDurationMs(flags.duration, '--duration');
  const count =
    flags.count === undefined
      ? durationMs === null
        ? 1000
        : Number.POSITIVE_INFINITY
      : parseInteger(flags.count, '--count');
  const concurrency = parseInteger(flags.concurrency ?? '10', '--concurrency');
  const sizeBytes = parseSizeBytes(flags.size ?? '10k', '--size');
  if (sizeBytes < 200)
    throw usageError(`--size ${flags.size}: give at least 200 bytes (the headers alone take that)`);
  const connection = await resolveConnection(flags, { allowAuth: true });
  const server = formatServerAddress(connection.address);
  const from = flags.from ?? 'bench@smtp-bench.invalid';
  const to = flags.to ?? 'sink@smtp-bench.invalid';
  const message = createBenchMessage({ from, to, sizeBytes });
  const pipelining = flags.pipelining !== false;
  // Checked before anything starts: a bad address is a usage error, not a failure per message.
  const envelope = {
    from: benchMailbox(from, '--from'),
    to: [benchMailbox(to, '--to')],
    transfer: 'DATA',
  } as const;
  const statistics = new BenchStatistics();
  const progress = await createProgress({
    total: Number.isFinite(count) ? count : Math.max(1, Math.round((durationMs ?? 0) / 1000)),
    label: 'bench',
    enabled: !flags.json,
  });
  const abort = abortOnInterrupt();
  const started = performance.now();
  const deadline = durationMs === null ? Number.POSITIVE_INFINITY : started + durationMs;
  // A duration run shows elapsed seconds instead of a message count.
  const ticker = Number.isFinite(count) ? null : setInterval(() => progress.increment(), 1000);
  const onMessage = Number.isFinite(count) ? () => progress.increment() : () => {};
  try {
    if (connection.auth) {
      // Loaded only with --user: the pool brings @smtp/client, which the lean driver does not need.
      const { runPooledLoad } = await import('../bench/run-pooled-load.js');
      await runPooledLoad({
        connection,
        concurrency,
        count,
        deadline,
        message,
        from,
        to,
        pipelining,
        statistics,
        onMessage,
        signal: abort.signal,
      });
    } else {
      await runBenchLoad({
        target: {
          host: connection.address.host,
          port: connection.address.port,
          secure: connection.secure,
          starttls: connection.starttls,
          tls: connection.tls,
          name: connection.name,
          lmtp: connection.lmtp,
          pipelining,
          envelope,
          message: prepareMessage(message),
          timeoutMs: benchTimeouts(connection.stepTimeoutMs),
        },
        concurrency,
        count,
        deadline,
        signal: abort.signal,
        statistics,
        onMessage,
      });
    }
  } finally {
    if (ticker) clearInterval(ticker);
    progress.stop();
    abort.dispose();
  }
  const summary = statistics.summarize(performance.now() - started);
  const exitCode = benchExitCode(summary);
  if (flags.json) {
    printJson(terminal, {
      command: 'bench',
      server,
      exitCode,
      settings: {
        concurrency,
        sizeBytes: message.byteLength,
        pipelining,
        count: Number.isFinite(count) ? count : null,
        durationMs,
      },
      results: summary,
    });
  } else {
    printBench(terminal, server, summary);
  }
  return exitCode;
}

/** An address from --from/--to, with or without angle brackets. */
function benchMailbox(text: string, flag: string): Mailbox {
  const bare = text.startsWith('<') && text.endsWith('>') ? text.slice(1, -1) : text;
  const parsed = parseMailbox(bare, { mode: 'strict', smtpUtf8: true });
  if (!parsed.ok) throw usageError(`${flag} '${text}': not a mailbox (${parsed.reply.lines.join(' ')})`);
  return parsed.value;
}

function benchExitCode(summary: BenchSummary): ExitCode {
  if (summary.failed === 0) return exitCodes.ok;
  if (summary.succeeded > 0) return exitCodes.partial;
  const keys = Object.keys(summary.errors);
  if (keys.every((key) => key.startsWith('4'))) return exitCodes.temporary;
  if (keys.every((key) => key.startsWith('5'))) return exitCodes.permanent;
  if (keys.every((key) => !/^\d/.test(key))) return exitCodes.network;
  return exitCodes.partial;
}

function printBench(terminal: Terminal, server: string, summary: BenchSummary): void {
  const colors = terminal.colors;
  const latency = summary.latencyMs;
  terminal.out(`${colors.bold('server')}        ${server}`);
  terminal.out(
    `${colors.bold('messages')}      ${summary.succeeded} accepted, ${summary.failed} failed in ${(summary.durationMs / 1000).toFixed(2)} s`,
  );
  terminal.out(
    `${colors.bold('throughput')}    ${colors.green(`${summary.messagesPerSecond} msg/s`)}, ${summary.megabytesPerSecond} MB/s`,
  );
  terminal.out(
    `${colors.bold('latency')}       p50 ${latency.p50} ms, p95 ${latency.p95} ms, p99 ${latency.p99} ms, p99.9 ${latency.p999} ms (min ${latency.min}, max ${latency.max})`,
  );
  const errors = Object.entries(summary.errors);
  if (errors.length > 0) {
    terminal.out(colors.bold('errors by reply code'));
    for (const [key, times] of errors) terminal.out(`  ${colors.red(key.padEnd(10))} ${times}`);
  }
}
