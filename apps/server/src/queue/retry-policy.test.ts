import { describe, expect, it } from 'vitest';
import {
  defaultRetryPolicy,
  delayWarningDue,
  giveUpAt,
  nextAttempt,
  type RetryPolicy,
  validateRetryPolicy,
} from './retry-policy.js';

const minute = 60_000;
const hour = 60 * minute;
const day = 24 * hour;
const arrivedAt = 1_700_000_000_000;
const middle = () => 0.5; // no jitter: 1 + 0.1 × (2 × 0.5 − 1) = 1

describe('retry policy', () => {
  it('waits 10 min, 30 min, 1 h, 2 h, then every 3 h (without jitter)', () => {
    const waits: number[] = [];
    let now = arrivedAt;
    for (let deferrals = 1; deferrals <= 7; deferrals++) {
      const decision = nextAttempt(defaultRetryPolicy, { arrivedAt, deferrals, now, random: middle });
      if (decision.kind !== 'retry') throw new Error('gave up too early');
      waits.push(decision.dueAt - now);
      now = decision.dueAt;
    }
    expect(waits).toEqual([10 * minute, 30 * minute, hour, 2 * hour, 3 * hour, 3 * hour, 3 * hour]);
  });

  it('spreads each wait by ±10 % from the injected random', () => {
    const at = (random: number) =>
      nextAttempt(defaultRetryPolicy, { arrivedAt, deferrals: 1, now: arrivedAt, random: () => random });
    expect(at(0)).toEqual({ kind: 'retry', dueAt: arrivedAt + 9 * minute });
    expect(at(0.999_999)).toEqual({
      kind: 'retry',
      dueAt: arrivedAt + Math.round(10 * minute * 1.099_999_8),
    });
    expect(at(0.25)).toEqual({ kind: 'retry', dueAt: arrivedAt + 9.5 * minute });
  });

  it('never waits less than a minute, however the policy and jitter fall', () => {
    const eager: RetryPolicy = { ...defaultRetryPolicy, schedule: [minute], jitter: 0.5 };
    expect(nextAttempt(eager, { arrivedAt, deferrals: 1, now: arrivedAt, random: () => 0 })).toEqual({
      kind: 'retry',
      dueAt: arrivedAt + minute,
    });
  });

  it('makes a last attempt at the deadline, then gives up after 5 days (RFC 5321 §4.5.4.1)', () => {
    expect(giveUpAt(defaultRetryPolicy, arrivedAt)).toBe(arrivedAt + 5 * day);
    const nearEnd = arrivedAt + 5 * day - hour;
    expect(
      nextAttempt(defaultRetryPolicy, { arrivedAt, deferrals: 30, now: nearEnd, random: middle }),
    ).toEqual({
      kind: 'retry',
      dueAt: arrivedAt + 5 * day,
    });
    expect(
      nextAttempt(defaultRetryPolicy, { arrivedAt, deferrals: 31, now: arrivedAt + 5 * day, random: middle }),
    ).toEqual({ kind: 'give-up', reason: 'still undeliverable after 5 days' });
  });

  it('counts the attempts a full 5 days make: no more, no fewer', () => {
    let now = arrivedAt;
    let deferrals = 0;
    for (;;) {
      deferrals++;
      const decision = nextAttempt(defaultRetryPolicy, { arrivedAt, deferrals, now, random: middle });
      if (decision.kind === 'give-up') break;
      now = decision.dueAt;
    }
    // 43 retries (4 scheduled, ending at 3 h 40 min; 38 every 3 h; 1 at the deadline), then the 44th deferral gives up.
    expect(deferrals).toBe(1 + 4 + 38 + 1);
    expect(now).toBe(arrivedAt + 5 * day);
  });

  it('owes one delay warning after 4 hours, not before, not twice, not past the deadline, not when off', () => {
    const facts = (now: number, warned = false) => ({ arrivedAt, now, warned });
    expect(delayWarningDue(defaultRetryPolicy, facts(arrivedAt + 4 * hour - 1))).toBe(false);
    expect(delayWarningDue(defaultRetryPolicy, facts(arrivedAt + 4 * hour))).toBe(true);
    expect(delayWarningDue(defaultRetryPolicy, facts(arrivedAt + 4 * hour, true))).toBe(false);
    expect(delayWarningDue(defaultRetryPolicy, facts(arrivedAt + 5 * day))).toBe(false);
    expect(delayWarningDue({ ...defaultRetryPolicy, delayWarningAfter: null }, facts(arrivedAt + day))).toBe(
      false,
    );
    expect(delayWarningDue({ ...defaultRetryPolicy, delayWarningAfter: hour }, facts(arrivedAt + hour))).toBe(
      true,
    );
  });

  it('accepts the default policy and names what is wrong with a bad one', () => {
    expect(validateRetryPolicy(defaultRetryPolicy)).toEqual([]);
    expect(
      validateRetryPolicy({
        schedule: [1000],
        repeatEvery: 0,
        jitter: 1,
        giveUpAfter: day,
        delayWarningAfter: 2 * day,
      }),
    ).toEqual([
      'every scheduled wait is at least 1 minute',
      'repeatEvery is at least 1 minute',
      'jitter is a fraction in [0, 1)',
      'giveUpAfter is at least 4 days (RFC 5321 §4.5.4.1)',
      'delayWarningAfter lies between 0 and giveUpAfter',
    ]);
  });
});
