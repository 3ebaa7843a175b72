/** The numbers `smtp bench` reports, in the shape of schemas/bench.schema.json `results`. */
export interface BenchSummary {
  readonly messages: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly durationMs: number;
  readonly messagesPerSecond: number;
  readonly megabytesPerSecond: number;
  readonly latencyMs: {
    readonly min: number;
    readonly mean: number;
    readonly p50: number;
    readonly p95: number;
    readonly p99: number;
    readonly max: number;
  };
  /** Failures by reply code ("450", "550") or by kind without a reply ("network", "timeout", "tls"). */
  readonly errors: Readonly<Record<string, number>>;
}

/** Collects one sample per message; latencies of successful messages only, bytes of accepted ones. */
export class BenchStatistics {
  readonly #latenciesMs: number[] = [];
  readonly #errors = new Map<string, number>();
  #acceptedBytes = 0;
  #failed = 0;

  success(latencyMs: number, messageBytes: number): void {
    this.#latenciesMs.push(latencyMs);
    this.#acceptedBytes += messageBytes;
  }

  failure(key: string): void {
    this.#failed += 1;
    this.#errors.set(key, (this.#errors.get(key) ?? 0) + 1);
  }

  get count(): number {
    return this.#latenciesMs.length + this.#failed;
  }

  summarize(durationMs: number): BenchSummary {
    const sorted = [...this.#latenciesMs].sort((a, b) => a - b);
    const seconds = durationMs / 1000;
    const sum = sorted.reduce((total, value) => total + value, 0);
    return {
      messages: this.count,
      succeeded: sorted.length,
      failed: this.#failed,
      durationMs: round(durationMs),
      messagesPerSecond: seconds > 0 ? round(sorted.length / seconds) : 0,
      megabytesPerSecond: seconds > 0 ? round(this.#acceptedBytes / 1_000_000 / seconds) : 0,
      latencyMs: {
        min: round(sorted[0] ?? 0),
        mean: round(sorted.length > 0 ? sum / sorted.length : 0),
        p50: round(percentile(sorted, 50)),
        p95: round(percentile(sorted, 95)),
        p99: round(percentile(sorted, 99)),
        max: round(sorted.at(-1) ?? 0),
      },
      errors: Object.fromEntries([...this.#errors].sort((a, b) => b[1] - a[1])),
    };
  }
}

/** Nearest-rank percentile of sorted values (the smallest value with at least p% of samples at or below it). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? 0;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
