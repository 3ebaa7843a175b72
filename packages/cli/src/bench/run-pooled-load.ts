import { createClient } from '@smtp/client';
import { describeError } from '../describe-error.js';
import { clientOptionsOf, type ResolvedConnection } from '../options/connection-options.js';
import type { BenchStatistics } from './bench-statistics.js';

export interface PooledLoadOptions {
  readonly connection: ResolvedConnection;
  readonly concurrency: number;
  readonly count: number;
  readonly deadline: number;
  readonly message: Uint8Array;
  readonly from: string;
  readonly to: string;
  readonly pipelining: boolean;
  readonly statistics: BenchStatistics;
  readonly onMessage: () => void;
  readonly signal: AbortSignal;
}

/**
 * With --user the load goes through @smtp/client's pool, which brings AUTH (mechanism choice, SASL,
 * the plaintext checks); it costs more CPU per message than the lean driver of runBenchLoad.
 */
export async function runPooledLoad(options: PooledLoadOptions): Promise<void> {
  const { connection, statistics, signal } = options;
  const client = createClient({
    ...clientOptionsOf(connection),
    pipelining: options.pipelining,
    pool: { maxConnections: options.concurrency, maxMessagesPerConnection: 1000 },
  });
  let issued = 0;
  const worker = async () => {
    while (issued < options.count && performance.now() < options.deadline && !signal.aborted) {
      issued += 1;
      options.onMessage();
      const sendStarted = performance.now();
      try {
        const result = await client.send({
          from: options.from,
          to: options.to,
          message: options.message,
          signal,
        });
        if (result.rejected.length > 0)
          statistics.failure(String(result.rejected[0]?.reply.code ?? 'rejected'));
        else statistics.success(performance.now() - sendStarted, result.messageBytes);
      } catch (error) {
        if (signal.aborted) break;
        statistics.failure(failureKey(error));
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(options.concurrency, options.count) }, worker));
  } finally {
    await client.close().catch(() => client.destroy());
  }
}

function failureKey(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'reply' in error) {
    const code = (error as { reply?: { code?: number } }).reply?.code;
    if (typeof code === 'number') return String(code);
  }
  return describeError(error).kind;
}
