/**
 * How many sessions one destination (a domain, or the MX host its mail goes to) gets at once, and
 * whether it gets any: a pure function of (window, event, now) → window, which the scheduler keeps one of
 * per destination in memory and asks before it opens a session.
 *
 * - Slow start: a new destination gets `initial` sessions; each success adds one, up to `max`.
 * - A connection failure or a 421 halves the window (never below 1): the receiver is struggling.
 * - After `downAfter` connection failures in a row the destination is down: nothing is tried until a
 *   back-off (`downBackoff`, doubling per failed probe to `maxDownBackoff`) has passed, then exactly one
 *   probe. An unreachable domain so costs one attempt per back-off, not one per queued message;
 *   a successful probe brings it back up with the initial window.
 * - Optionally a token bucket limits session starts per second (`rate`, `burst`).
 *
 * Decisions carry `retryAt` so the scheduler sleeps until then rather than polling.
 */

export interface WindowOptions {
  readonly initial: number;
  readonly max: number;
  readonly downAfter: number;
  readonly downBackoff: number;
  readonly maxDownBackoff: number;
  /** Session starts per second, or null for no limit. */
  readonly rate: number | null;
  readonly burst: number;
}

export const defaultWindowOptions: WindowOptions = {
  initial: 2,
  max: 20,
  downAfter: 3,
  downBackoff: 60_000,
  maxDownBackoff: 30 * 60_000,
  rate: null,
  burst: 1,
};

export type DestinationHealth =
  | { readonly kind: 'up'; readonly consecutiveFailures: number }
  | { readonly kind: 'down'; readonly until: number; readonly backoff: number }
  /** One probe is out; nothing else starts until it reports. */
  | { readonly kind: 'probing'; readonly backoff: number };

export interface DestinationWindow {
  readonly limit: number;
  readonly inFlight: number;
  readonly health: DestinationHealth;
  /** The token bucket: tokens left, as of `tokensAt`. */
  readonly tokens: number;
  readonly tokensAt: number;
}

export type StartDecision =
  | { readonly start: true; readonly probe: boolean; readonly window: DestinationWindow }
  | {
      readonly start: false;
      readonly reason: 'window-full' | 'down' | 'probing' | 'rate-limited';
      /** When asking again can succeed; null when it waits for a session to finish. */
      readonly retryAt: number | null;
    };

/** How a session ended, as far as the destination is concerned. */
export type SessionResult = 'success' | 'connection-failure' | 'throttled' | 'other';

export function newDestinationWindow(options: WindowOptions, now: number): DestinationWindow {
  return {
    limit: options.initial,
    inFlight: 0,
    health: { kind: 'up', consecutiveFailures: 0 },
    tokens: options.burst,
    tokensAt: now,
  };
}

/** Whether a session may start now; when it may, the window with it counted. */
export function tryStart(window: DestinationWindow, options: WindowOptions, now: number): StartDecision {
  const { health } = window;
  if (health.kind === 'probing') return { start: false, reason: 'probing', retryAt: null };
  if (health.kind === 'down' && now < health.until)
    return { start: false, reason: 'down', retryAt: health.until };
  if (window.inFlight >= window.limit) return { start: false, reason: 'window-full', retryAt: null };
  const tokens = refill(window, options, now);
  if (options.rate !== null && tokens < 1)
    return {
      start: false,
      reason: 'rate-limited',
      retryAt: now + Math.ceil(((1 - tokens) / options.rate) * 1000),
    };
  const probe = health.kind === 'down';
  return {
    start: true,
    probe,
    window: {
      ...window,
      inFlight: window.inFlight + 1,
      health: probe ? { kind: 'probing', backoff: health.backoff } : health,
      tokens: options.rate === null ? tokens : tokens - 1,
      tokensAt: now,
    },
  };
}

/**
 * Whether forgetting the window loses nothing: no session out, the destination up, and a rate
 * limit's bucket full again (a fresh window starts with a full one: forgotten any earlier, a steady
 * trickle of single messages would never be held to the rate).
 */
export function isAtRest(window: DestinationWindow, options: WindowOptions, now: number): boolean {
  return (
    window.inFlight === 0 &&
    window.health.kind === 'up' &&
    (options.rate === null || refill(window, options, now) >= options.burst)
  );
}

/** The window after a session ends. */
export function finish(
  window: DestinationWindow,
  result: SessionResult,
  options: WindowOptions,
  now: number,
): DestinationWindow {
  const inFlight = Math.max(0, window.inFlight - 1);
  const { health } = window;
  const halved = Math.max(1, Math.floor(window.limit / 2));
  switch (result) {
    case 'success':
      return {
        ...window,
        inFlight,
        limit: health.kind === 'up' ? Math.min(options.max, window.limit + 1) : options.initial,
        health: { kind: 'up', consecutiveFailures: 0 },
      };
    case 'throttled':
      return { ...window, inFlight, limit: halved };
    case 'other':
      return { ...window, inFlight };
    case 'connection-failure': {
      if (health.kind === 'probing') {
        const backoff = Math.min(options.maxDownBackoff, health.backoff * 2);
        return { ...window, inFlight, limit: 1, health: { kind: 'down', until: now + backoff, backoff } };
      }
      if (health.kind === 'down') return { ...window, inFlight };
      const consecutiveFailures = health.consecutiveFailures + 1;
      if (consecutiveFailures >= options.downAfter)
        return {
          ...window,
          inFlight,
          limit: 1,
          health: { kind: 'down', until: now + options.downBackoff, backoff: options.downBackoff },
        };
      return { ...window, inFlight, limit: halved, health: { kind: 'up', consecutiveFailures } };
    }
  }
}

function refill(window: DestinationWindow, options: WindowOptions, now: number): number {
  if (options.rate === null) return window.tokens;
  const elapsed = Math.max(0, now - window.tokensAt) / 1000;
  return Math.min(options.burst, window.tokens + elapsed * options.rate);
}
