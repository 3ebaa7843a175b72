import { LatencyHistogram } from './latency-histogram.js';

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
    readonly p999: number;
    readonly max: number;
  };
  /** Failures by reply code ("450", "550") or by kind without a reply ("network", "timeout", "tls"). */
  readonly errors: Readonly<Record<string, number>>;
}

/**
 * Collects the outcome of every message: the latencies of successful ones in a histogram (fixed
 * memory, whatever the count), the bytes of accepted ones, and failures by key. Connections keep
 * their own histogram and hand it over with addConnection() when they end, so the hot path touches
 * nothing shared.
 */
export class BenchStatistics {
  readonly #latencies = new LatencyHistogram();
  readonly #errors = new Map<string, number>();
  #acceptedBytes = 0;
  #failed = 0;

  success(latencyMs: number, messageBytes: number): void {
    this.#latencies.record(latencyMs);
    this.#acceptedBytes += messageBytes;
  }

  /** A connection's successful messages: their latencies and how many bytes were accepted. */
  addConnection(latencies: LatencyHistogram, acceptedBytes: number): void {
    this.#latencies.merge(latencies);
    this.#acceptedBytes += acceptedBytes;
  }

  failure(key: string, times = 1): void {
    this.#failed += times;
    this.#errors.set(key, (this.#errors.get(key) ?? 0) + times);
  }

  get count(): number {
    return this.#latencies.count + this.#failed;
  }

  summarize(durationMs: number): BenchSummary {
    const latencies = this.#latencies;
    const succeeded = latencies.count;
    const seconds = durationMs / 1000;
    return {
      messages: this.count,
      succeeded,
      failed: this.#failed,
      durationMs: round(durationMs),
      messagesPerSecond: seconds > 0 ? round(succeeded / seconds) : 0,
      megabytesPerSecond: seconds > 0 ? round(this.#acceptedBytes / 1_000_000 / seconds) : 0,
      latencyMs: {
        min: round(latencies.minMs),
        mean: round(latencies.meanMs),
        p50: round(latencies.percentileMs(50)),
        p95: round(latencies.percentileMs(95)),
        p99: round(latencies.percentileMs(99)),
        p999: round(latencies.percentileMs(99.9)),
        max: round(latencies.maxMs),
      },
      errors: Object.fromEntries([...this.#errors].sort((a, b) => b[1] - a[1])),
    };
  }
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
