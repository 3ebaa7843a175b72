import { describe, expect, it } from 'vitest';
import {
  type ClientRecord,
  decideGreylist,
  type GreylistSettings,
  type TripletRecord,
} from './greylist-decision.js';

// Postgrey's defaults.
const settings: GreylistSettings = {
  delayMs: 300_000,
  retryWindowMs: 2 * 86_400_000,
  maxAgeMs: 35 * 86_400_000,
  autoWhitelistAfter: 5,
};
const start = Date.parse('2026-12-06T10:00:00Z');

/** Runs attempts through the pure function, keeping what it says to store, as the store would. */
function attempts(times: readonly number[], startingClient: ClientRecord | null = null) {
  let triplet: TripletRecord | null = null;
  let client = startingClient;
  return times.map((nowMs) => {
    const decision = decideGreylist({ triplet, client, nowMs, settings });
    triplet = decision.triplet ?? triplet;
    client = decision.client ?? client;
    return decision.outcome;
  });
}

describe('greylisting decision (RFC 6647, Postgrey rules)', () => {
  it('defers the first attempt and an early retry, passes a retry after the delay', () => {
    expect(attempts([start, start + 60_000, start + 299_999, start + 300_000, start + 400_000])).toEqual([
      'deferred',
      'deferred',
      'deferred',
      'pass',
      'pass',
    ]);
  });

  it('keeps the first-seen time across early retries (the delay does not restart)', () => {
    const first = decideGreylist({ triplet: null, client: null, nowMs: start, settings });
    const early = decideGreylist({ triplet: first.triplet, client: null, nowMs: start + 200_000, settings });
    expect(early.triplet).toEqual({ firstSeenMs: start, lastSeenMs: start + 200_000, passCount: 0 });
    expect(early.reason).toBe('retried too early, 100 s to go');
  });

  it('starts over when the retry comes after the 2-day window', () => {
    expect(attempts([start, start + 2 * 86_400_000 + 1, start + 2 * 86_400_000 + 300_001])).toEqual([
      'deferred',
      'deferred',
      'pass',
    ]);
  });

  it('forgets a passed triplet unseen for 35 days', () => {
    const day = 86_400_000;
    expect(attempts([start, start + 300_000, start + 30 * day, start + 66 * day])).toEqual([
      'deferred',
      'pass',
      'pass',
      'deferred',
    ]);
  });

  it('auto-whitelists a client network after five passed attempts', () => {
    const times = [start, ...[1, 2, 3, 4, 5].map((index) => start + 300_000 * index)];
    let client: ClientRecord | null = null;
    let triplet: TripletRecord | null = null;
    for (const nowMs of times) {
      const decision = decideGreylist({ triplet, client, nowMs, settings });
      triplet = decision.triplet ?? triplet;
      client = decision.client ?? client;
    }
    expect(client).toEqual({ passCount: 5, lastSeenMs: start + 1_500_000 });
    // A triplet never seen before, from the same client network: not greylisted.
    const fresh = decideGreylist({ triplet: null, client, nowMs: start + 1_600_000, settings });
    expect(fresh.outcome).toBe('whitelisted');
    expect(fresh.triplet).toBeNull();
    // Four passes are not enough.
    const almost = decideGreylist({
      triplet: null,
      client: { passCount: 4, lastSeenMs: start },
      nowMs: start,
      settings,
    });
    expect(almost.outcome).toBe('deferred');
    // Off with autoWhitelistAfter 0.
    const off = decideGreylist({
      triplet: null,
      client: { passCount: 50, lastSeenMs: start },
      nowMs: start,
      settings: { ...settings, autoWhitelistAfter: 0 },
    });
    expect(off.outcome).toBe('deferred');
  });
});
