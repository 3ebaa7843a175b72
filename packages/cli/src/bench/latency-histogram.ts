/**
 * Bits of linear sub-buckets per power of two: 2^5 = 32 buckets per octave, so a recorded value and
 * the value reported for its bucket differ by at most 1/32 (about 3 %). Values below 2^5 µs are exact.
 */
const subBucketBits = 5;
const subBucketCount = 1 << subBucketBits;
/** Microsecond values up to 2^31 - 1 (about 36 minutes); longer ones count in the last bucket. */
const maxMicros = 0x7fff_ffff;
const bucketCount = (32 - subBucketBits) * subBucketCount;

/**
 * A latency histogram with fixed log-linear buckets (the HdrHistogram layout): recording is one
 * clz32, two shifts and an increment, memory is fixed (864 counters) however many samples arrive,
 * and histograms of several connections merge by adding their counters. Exact count, sum, min and
 * max are kept beside the buckets.
 */
export class LatencyHistogram {
  readonly #counts = new Float64Array(bucketCount);
  #count = 0;
  #sumMicros = 0;
  #minMicros = Number.POSITIVE_INFINITY;
  #maxMicros = 0;

  /** Records one latency in milliseconds (fractions kept to the microsecond). */
  record(milliseconds: number): void {
    let micros = Math.round(milliseconds * 1000);
    if (micros < 0) micros = 0;
    else if (micros > maxMicros) micros = maxMicros;
    const index = bucketIndex(micros);
    this.#counts[index] = (this.#counts[index] as number) + 1;
    this.#count += 1;
    this.#sumMicros += micros;
    if (micros < this.#minMicros) this.#minMicros = micros;
    if (micros > this.#maxMicros) this.#maxMicros = micros;
  }

  /** Adds another histogram's samples to this one. */
  merge(other: LatencyHistogram): void {
    const counts = other.#counts;
    for (let index = 0; index < bucketCount; index += 1) {
      this.#counts[index] = (this.#counts[index] as number) + (counts[index] as number);
    }
    this.#count += other.#count;
    this.#sumMicros += other.#sumMicros;
    if (other.#minMicros < this.#minMicros) this.#minMicros = other.#minMicros;
    if (other.#maxMicros > this.#maxMicros) this.#maxMicros = other.#maxMicros;
  }

  get count(): number {
    return this.#count;
  }

  get minMs(): number {
    return this.#count === 0 ? 0 : this.#minMicros / 1000;
  }

  get maxMs(): number {
    return this.#maxMicros / 1000;
  }

  get meanMs(): number {
    return this.#count === 0 ? 0 : this.#sumMicros / this.#count / 1000;
  }

  /**
   * The nearest-rank percentile (the smallest sample with at least `percent` % of samples at or below
   * it), as the highest value its bucket holds, never above the largest sample: at most 1/32 above the
   * exact answer, never below it. 0 when empty.
   */
  percentileMs(percent: number): number {
    if (this.#count === 0) return 0;
    const rank = Math.min(this.#count, Math.max(1, Math.ceil((percent * this.#count) / 100)));
    let seen = 0;
    for (let index = 0; index < bucketCount; index += 1) {
      seen += this.#counts[index] as number;
      if (seen >= rank) return Math.min(bucketHighestMicros(index), this.#maxMicros) / 1000;
    }
    return this.#maxMicros / 1000;
  }
}

/** Bucket 0..31 hold 0..31 µs exactly; then each octave [2^e, 2^(e+1)) has 32 buckets of 2^(e-5) µs. */
function bucketIndex(micros: number): number {
  if (micros < subBucketCount) return micros;
  const exponent = 31 - Math.clz32(micros); // ≥ subBucketBits
  const shift = exponent - subBucketBits;
  return ((shift + 1) << subBucketBits) + ((micros >>> shift) - subBucketCount);
}

function bucketHighestMicros(index: number): number {
  if (index < subBucketCount) return index;
  const shift = (index >>> subBucketBits) - 1;
  const subBucket = (index & (subBucketCount - 1)) + subBucketCount;
  return (subBucket + 1) * 2 ** shift - 1; // not <<: the top octave passes 2^31
}
