import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limiter.js';

describe('RateLimiter', () => {
  it('allows a burst of one second worth, then spaces starts evenly', () => {
    const limiter = new RateLimiter(4, 0);
    expect([limiter.take(0), limiter.take(0), limiter.take(0), limiter.take(0)]).toEqual([0, 0, 0, 0]);
    expect(limiter.take(0)).toBe(250);
    expect(limiter.take(250)).toBe(0);
    expect(limiter.take(300)).toBe(200);
  });

  it('allows at least one start for rates below one per second', () => {
    const limiter = new RateLimiter(0.5, 0);
    expect(limiter.take(0)).toBe(0);
    expect(limiter.take(0)).toBe(2000);
  });

  it('refuses a non-positive rate', () => {
    expect(() => new RateLimiter(0)).toThrow(RangeError);
  });
});
