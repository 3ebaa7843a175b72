import { describe, expect, it } from 'vitest';
import { BenchStatistics } from './bench-statistics.js';
import { LatencyHistogram } from './latency-histogram.js';

describe('BenchStatistics', () => {
  it('computes rates from successes and counts errors by key', () => {
    const statistics = new BenchStatistics();
    for (let index = 1; index <= 10; index += 1) statistics.success(index, 100_000);
    statistics.failure('450');
    statistics.failure('450');
    statistics.failure('network');
    const summary = statistics.summarize(2000);
    expect(summary).toMatchObject({
      messages: 13,
      succeeded: 10,
      failed: 3,
      messagesPerSecond: 5,
      megabytesPerSecond: 0.5,
    });
    // Percentiles come from histogram buckets: at most 1/32 above the exact sample, never above max.
    expect(summary.latencyMs).toEqual({ min: 1, mean: 5.5, p50: 5.12, p95: 10, p99: 10, p999: 10, max: 10 });
    expect(summary.errors).toEqual({ 450: 2, network: 1 });
  });

  it('merges the histograms of several connections', () => {
    const statistics = new BenchStatistics();
    const first = new LatencyHistogram();
    const second = new LatencyHistogram();
    for (let index = 0; index < 900; index += 1) first.record(2);
    for (let index = 0; index < 100; index += 1) second.record(40);
    statistics.addConnection(first, 900 * 1000);
    statistics.addConnection(second, 100 * 1000);
    const summary = statistics.summarize(1000);
    expect(summary).toMatchObject({
      messages: 1000,
      succeeded: 1000,
      messagesPerSecond: 1000,
      megabytesPerSecond: 1,
    });
    expect(summary.latencyMs).toMatchObject({ min: 2, p50: 2.02, p95: 40, max: 40 });
    expect(summary.latencyMs.mean).toBeCloseTo(5.8, 5);
  });
});
