import { describe, expect, it } from 'vitest';
import {
  type DestinationWindow,
  defaultWindowOptions,
  finish,
  newDestinationWindow,
  type SessionResult,
  tryStart,
  type WindowOptions,
} from './destination-window.js';

const t0 = 1_000_000;

function start(window: DestinationWindow, now: number, options: WindowOptions = defaultWindowOptions) {
  const decision = tryStart(window, options, now);
  if (!decision.start) throw new Error(`refused: ${decision.reason}`);
  return decision.window;
}

/** Starts one session and ends it with the result. */
function session(
  window: DestinationWindow,
  result: SessionResult,
  now: number,
  options = defaultWindowOptions,
) {
  return finish(start(window, now, options), result, options, now);
}

describe('destination window', () => {
  it('starts with 2 sessions and refuses a third until one finishes', () => {
    let window = newDestinationWindow(defaultWindowOptions, t0);
    window = start(start(window, t0), t0);
    expect(tryStart(window, defaultWindowOptions, t0)).toEqual({
      start: false,
      reason: 'window-full',
      retryAt: null,
    });
    window = finish(window, 'other', defaultWindowOptions, t0);
    expect(window).toMatchObject({ inFlight: 1, limit: 2 });
    expect(tryStart(window, defaultWindowOptions, t0).start).toBe(true);
  });

  it('grows by one per success up to max, and halves on a 421 or a connection failure', () => {
    let window = newDestinationWindow(defaultWindowOptions, t0);
    for (let index = 0; index < 30; index++) window = session(window, 'success', t0);
    expect(window.limit).toBe(20);
    window = session(window, 'throttled', t0);
    expect(window.limit).toBe(10);
    window = session(window, 'connection-failure', t0);
    expect(window).toMatchObject({ limit: 5, health: { kind: 'up', consecutiveFailures: 1 } });
    window = session(window, 'success', t0);
    expect(window).toMatchObject({ limit: 6, health: { kind: 'up', consecutiveFailures: 0 } });
    let small = newDestinationWindow(defaultWindowOptions, t0);
    for (let index = 0; index < 5; index++) small = session(small, 'throttled', t0);
    expect(small.limit).toBe(1);
  });

  it('marks a destination down after 3 connection failures in a row: one probe per back-off, doubling', () => {
    let window = newDestinationWindow(defaultWindowOptions, t0);
    for (let index = 0; index < 3; index++) window = session(window, 'connection-failure', t0);
    expect(window.health).toEqual({ kind: 'down', until: t0 + 60_000, backoff: 60_000 });
    // Every queued message for it is now told to wait, without an attempt.
    for (let index = 0; index < 1000; index++)
      expect(tryStart(window, defaultWindowOptions, t0 + 59_999)).toEqual({
        start: false,
        reason: 'down',
        retryAt: t0 + 60_000,
      });
    const probe = tryStart(window, defaultWindowOptions, t0 + 60_000);
    expect(probe).toMatchObject({ start: true, probe: true });
    if (!probe.start) throw new Error('no probe');
    expect(tryStart(probe.window, defaultWindowOptions, t0 + 60_000)).toEqual({
      start: false,
      reason: 'probing',
      retryAt: null,
    });
    window = finish(probe.window, 'connection-failure', defaultWindowOptions, t0 + 61_000);
    expect(window.health).toEqual({ kind: 'down', until: t0 + 61_000 + 120_000, backoff: 120_000 });
    for (let index = 0; index < 10; index++) {
      const until = window.health.kind === 'down' ? window.health.until : 0;
      window = session(window, 'connection-failure', until);
    }
    expect(window.health).toMatchObject({ kind: 'down', backoff: 30 * 60_000 });
  });

  it('brings a destination back up with the initial window when the probe succeeds', () => {
    let window = newDestinationWindow(defaultWindowOptions, t0);
    for (let index = 0; index < 3; index++) window = session(window, 'connection-failure', t0);
    window = session(window, 'success', t0 + 60_000);
    expect(window).toMatchObject({ limit: 2, inFlight: 0, health: { kind: 'up', consecutiveFailures: 0 } });
  });

  it('lets sessions started before the outage end without moving the back-off', () => {
    let window = newDestinationWindow({ ...defaultWindowOptions, initial: 5 }, t0);
    for (let index = 0; index < 5; index++) window = start(window, t0);
    for (let index = 0; index < 5; index++)
      window = finish(window, 'connection-failure', defaultWindowOptions, t0 + index);
    expect(window).toMatchObject({ inFlight: 0, health: { kind: 'down', until: t0 + 2 + 60_000 } });
  });

  it('limits session starts with a token bucket when a rate is set', () => {
    const options: WindowOptions = { ...defaultWindowOptions, max: 100, initial: 100, rate: 2, burst: 2 };
    let window = newDestinationWindow(options, t0);
    window = start(start(window, t0, options), t0, options);
    expect(tryStart(window, options, t0)).toEqual({
      start: false,
      reason: 'rate-limited',
      retryAt: t0 + 500,
    });
    expect(tryStart(window, options, t0 + 499).start).toBe(false);
    window = start(window, t0 + 500, options);
    expect(tryStart(window, options, t0 + 600)).toEqual({
      start: false,
      reason: 'rate-limited',
      retryAt: t0 + 1000,
    });
    // Idle time refills no more than the burst.
    window = start(start(window, t0 + 60_000, options), t0 + 60_000, options);
    expect(tryStart(window, options, t0 + 60_000).start).toBe(false);
  });
});
