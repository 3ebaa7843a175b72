import { describe, expect, it } from 'vitest';
import { BenchStatistics, percentile } from './bench-statistics.js';

describe('percentile (nearest rank)', () => {
  it('picks the smallest value with at least p% of samples at or below it', () => {
    const values = Array.from({ length: 100 }, (_, index) => index + 1);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 95)).toBe(95);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBe(0);
  });
});

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
    expect(summary.latencyMs).toEqual({ min: 1, mean: 5.5, p50: 5, p95: 10, p99: 10, max: 10 });
    expect(summary.errors).toEqual({ 450: 2, network: 1 });
  });
});
