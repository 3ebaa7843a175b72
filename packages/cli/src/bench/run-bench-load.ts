import { BenchConnection, type BenchLoad, type BenchTarget } from './bench-connection.js';
import type { BenchStatistics } from './bench-statistics.js';

export interface BenchLoadOptions {
  readonly target: BenchTarget;
  readonly concurrency: number;
  /** Messages in all; Infinity with a duration. */
  readonly count: number;
  /** performance.now() after which no message starts; Infinity without a duration. */
  readonly deadline: number;
  readonly signal: AbortSignal;
  readonly statistics: BenchStatistics;
  /** Called once per message started (the progress bar). */
  readonly onMessage: () => void;
}

/** After a connection that carried nothing, wait this long before the next one in a --duration run. */
const retryPauseMs = 100;
/** How often the one timer checks every connection's reply deadline. */
const timeoutCheckMs = 250;

/**
 * Keeps `concurrency` bench connections busy until the budget (count or duration) is used up: each
 * slot runs one connection at a time and opens another when it ends early (421, a network error).
 * Reply timeouts are checked by one interval timer for all connections, not a timer per reply.
 */
export async function runBenchLoad(options: BenchLoadOptions): Promise<void> {
  const { count, deadline, signal, statistics } = options;
  let issued = 0;
  const hasBudget = () =>
    issued < count &&
    !signal.aborted &&
    (deadline === Number.POSITIVE_INFINITY || performance.now() < deadline);
  const load: BenchLoad = {
    claim() {
      if (!hasBudget()) return false;
      issued += 1;
      options.onMessage();
      return true;
    },
    failure(key) {
      statistics.failure(key);
    },
  };
  const live = new Set<BenchConnection>();
  const timer = setInterval(() => {
    const now = performance.now();
    for (const connection of live) connection.checkTimeout(now);
  }, timeoutCheckMs);
  const onAbort = () => {
    for (const connection of live) connection.abandon();
  };
  signal.addEventListener('abort', onAbort, { once: true });
  const slot = async () => {
    while (hasBudget()) {
      let connection: BenchConnection | null = null;
      const outcome = await BenchConnection.run(options.target, load, (created) => {
        connection = created;
        live.add(created);
      });
      if (connection !== null) live.delete(connection);
      statistics.addConnection(outcome.latencies, outcome.acceptedBytes);
      if (outcome.latencies.count === 0 && count === Number.POSITIVE_INFINITY) {
        await new Promise((resolve) => setTimeout(resolve, retryPauseMs));
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(options.concurrency, count) }, slot));
  } finally {
    clearInterval(timer);
    signal.removeEventListener('abort', onAbort);
  }
}
