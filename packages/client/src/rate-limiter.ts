/**
 * Token bucket: at most `perSecond` starts per second on average, with bursts of at most
 * max(1, perSecond) (so a burst never exceeds one second's worth).
 */
export class RateLimiter {
  readonly #perSecond: number;
  readonly #capacity: number;
  #tokens: number;
  #updatedAt: number;

  constructor(perSecond: number, now: number = performance.now()) {
    if (!(perSecond > 0)) throw new RangeError('maxMessagesPerSecond must be a positive number');
    this.#perSecond = perSecond;
    this.#capacity = Math.max(1, perSecond);
    this.#tokens = this.#capacity;
    this.#updatedAt = now;
  }

  /** Takes a token and returns 0, or returns how many ms to wait before one is available. */
  take(now: number = performance.now()): number {
    this.#tokens = Math.min(
      this.#capacity,
      this.#tokens + ((now - this.#updatedAt) * this.#perSecond) / 1000,
    );
    this.#updatedAt = now;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.#tokens) * 1000) / this.#perSecond);
  }
}
