import { describe, expect, it } from 'vitest';
import { isRetryable, retryDelayMs } from './webhook-retry.js';
import { webhookSignature } from './webhook-signature.js';

describe('webhook retries', () => {
  it('retries no answer, 5xx, 408 and 429; not 2xx/3xx or any other 4xx', () => {
    expect([null, 500, 502, 503, 408, 429].map(isRetryable)).toEqual([true, true, true, true, true, true]);
    expect([200, 204, 301, 400, 401, 404, 410, 422].map(isRetryable)).toEqual(Array(8).fill(false));
  });

  it('waits the first delay, then doubles it, capped at ten minutes', () => {
    expect([1, 2, 3, 4].map((tried) => retryDelayMs(tried, 2000))).toEqual([2000, 4000, 8000, 16_000]);
    expect(retryDelayMs(30, 2000)).toBe(600_000);
  });
});

describe('webhook signature', () => {
  it('is sha256= and the hex HMAC-SHA256 of "<timestamp>.<body>" (vector from Python hmac)', () => {
    expect(webhookSignature('topsecret', 1_700_000_000, '{"id":"x"}')).toBe(
      'sha256=f222a6bd6510f7a55e2f9c68bb0d0cd64ab31438cf9e89d64a903ae820701be6',
    );
  });
});
