import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from './latency-histogram.js';

/** The exact nearest-rank percentile of the samples, to compare the histogram with. */
function exactPercentile(samples: readonly number[], percent: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((percent * sorted.length) / 100)));
  return sorted[rank - 1] ?? 0;
}

describe('LatencyHistogram', () => {
  it('reports p50, p99 and p99.9 of known delays', () => {
    const histogram = new LatencyHistogram();
    // 10,000 messages: 9,000 at 1 ms, 900 at 20 ms, 90 at 150 ms, 10 at 2 s.
    const delays = [
      ...Array<number>(9000).fill(1),
      ...Array<number>(900).fill(20),
      ...Array<number>(90).fill(150),
      ...Array<number>(10).fill(2000),
    ];
    for (const delay of delays) histogram.record(delay);
    expect(histogram.count).toBe(10_000);
    // Values within a bucket are reported as its top, at most 1/32 above the exact value.
    expect(histogram.percentileMs(50)).toBeGreaterThanOrEqual(1);
    expect(histogram.percentileMs(50)).toBeLessThanOrEqual(1 * (1 + 1 / 32));
    expect(histogram.percentileMs(99)).toBeGreaterThanOrEqual(20);
    expect(histogram.percentileMs(99)).toBeLessThanOrEqual(20 * (1 + 1 / 32));
    expect(histogram.percentileMs(99.9)).toBeGreaterThanOrEqual(150);
    expect(histogram.percentileMs(99.9)).toBeLessThanOrEqual(150 * (1 + 1 / 32));
    // p99.91 is the first rank in the 2 s group; the largest sample caps the bucket's top.
    expect(histogram.percentileMs(99.91)).toBe(2000);
    expect(histogram.percentileMs(100)).toBe(2000);
    expect(histogram.minMs).toBe(1);
    expect(histogram.maxMs).toBe(2000);
    expect(histogram.meanMs).toBeCloseTo((9000 * 1 + 900 * 20 + 90 * 150 + 10 * 2000) / 10_000, 6);
  });

  it('stays within 1/32 of the exact percentile for spread values', () => {
    const histogram = new LatencyHistogram();
    const samples: number[] = [];
    let seed = 7;
    for (let index = 0; index < 5000; index += 1) {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      const value = Math.round((seed / 2 ** 31) ** 3 * 5_000_000) / 1000; // 0 to 5 s, skewed low
      samples.push(value);
      histogram.record(value);
    }
    for (const percent of [1, 10, 50, 90, 99, 99.9]) {
      const exact = exactPercentile(samples, percent);
      const reported = histogram.percentileMs(percent);
      expect(reported).toBeGreaterThanOrEqual(exact);
      expect(reported).toBeLessThanOrEqual(exact * (1 + 1 / 32) + 0.001);
    }
  });

  it('keeps microseconds below 32 µs exactly and clamps what is out of range', () => {
    const histogram = new LatencyHistogram();
    histogram.record(0.005);
    histogram.record(0.031);
    histogram.record(-1);
    histogram.record(10 ** 9); // beyond 2^31 µs: counted in the last bucket
    expect(histogram.percentileMs(25)).toBe(0);
    expect(histogram.percentileMs(50)).toBe(0.005);
    expect(histogram.percentileMs(75)).toBe(0.031);
    expect(histogram.maxMs).toBe(2_147_483.647);
    expect(histogram.percentileMs(100)).toBe(2_147_483.647);
  });

  it('is empty until something is recorded', () => {
    const histogram = new LatencyHistogram();
    expect([
      histogram.count,
      histogram.percentileMs(50),
      histogram.minMs,
      histogram.maxMs,
      histogram.meanMs,
    ]).toEqual([0, 0, 0, 0, 0]);
  });

  it('merges into the same answer as one histogram of all samples', () => {
    const whole = new LatencyHistogram();
    const parts = [new LatencyHistogram(), new LatencyHistogram()];
    for (let index = 0; index < 1000; index += 1) {
      const value = (index % 97) * 1.7;
      whole.record(value);
      parts[index % 2]?.record(value);
    }
    const merged = new LatencyHistogram();
    for (const part of parts) merged.merge(part);
    for (const percent of [50, 99, 99.9])
      expect(merged.percentileMs(percent)).toBe(whole.percentileMs(percent));
    expect([merged.count, merged.minMs, merged.maxMs, merged.meanMs]).toEqual([
      whole.count,
      whole.minMs,
      whole.maxMs,
      whole.meanMs,
    ]);
  });
});
