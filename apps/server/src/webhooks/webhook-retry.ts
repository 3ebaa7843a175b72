/** The longest wait between two tries of one event. */
const maxDelayMs = 10 * 60_000;

/**
 * Whether an answer is worth trying again: no answer (refused, reset, timed out, status null),
 * 5xx, 408 Request Timeout and 429 Too Many Requests. Any other 4xx says the receiver will not
 * take this request, so sending it again would only repeat the refusal.
 */
export function isRetryable(status: number | null): boolean {
  return status === null || status >= 500 || status === 408 || status === 429;
}

/** The wait after try number `tried` (1 = the first) failed: firstDelayMs, doubling, capped. */
export function retryDelayMs(tried: number, firstDelayMs: number): number {
  return Math.min(maxDelayMs, firstDelayMs * 2 ** Math.max(0, tried - 1));
}
