/**
 * When a deferred delivery is tried next, when the queue gives up, and when the sender is warned.
 * Pure: the caller passes `now` and a `random()` in [0, 1) (jitter), so the whole schedule is tested
 * with a fake clock. Times and durations are milliseconds.
 */

const minute = 60_000;
const hour = 60 * minute;
const day = 24 * hour;

export interface RetryPolicy {
  /** Waits after the 1st, 2nd, … deferral; after the last one, `repeatEvery` until giving up. */
  readonly schedule: readonly number[];
  readonly repeatEvery: number;
  /** Each wait is spread by ± this fraction, so deliveries deferred together do not return together. */
  readonly jitter: number;
  /** RFC 5321 §4.5.4.1: give up after at least 4–5 days. Counted from arrival. */
  readonly giveUpAfter: number;
  /** A "delayed" DSN once a delivery has waited this long (RFC 3461 DELAY); null sends none. */
  readonly delayWarningAfter: number | null;
}

export const defaultRetryPolicy: RetryPolicy = {
  schedule: [10 * minute, 30 * minute, hour, 2 * hour],
  repeatEvery: 3 * hour,
  jitter: 0.1,
  giveUpAfter: 5 * day,
  delayWarningAfter: 4 * hour,
};

export type RetryDecision =
  | { readonly kind: 'retry'; readonly dueAt: number }
  | { readonly kind: 'give-up'; readonly reason: string };

export interface DeferralFacts {
  /** When the message entered the queue. */
  readonly arrivedAt: number;
  /** Deferrals so far, this one included (1 after the first failed attempt). */
  readonly deferrals: number;
  readonly now: number;
  /** Uniform in [0, 1). */
  readonly random: () => number;
}

/** The next attempt after a deferral, or giving up once the delivery has been queued too long. */
export function nextAttempt(policy: RetryPolicy, facts: DeferralFacts): RetryDecision {
  const deadline = giveUpAt(policy, facts.arrivedAt);
  if (facts.now >= deadline)
    return { kind: 'give-up', reason: `still undeliverable after ${describeDuration(policy.giveUpAfter)}` };
  const base = policy.schedule[facts.deferrals - 1] ?? policy.repeatEvery;
  const spread = 1 + policy.jitter * (2 * facts.random() - 1);
  const wait = Math.max(minute, Math.round(base * spread));
  // One last attempt at the deadline rather than none after the last scheduled one before it.
  return { kind: 'retry', dueAt: Math.min(facts.now + wait, deadline) };
}

/** Will-Retry-Until for a "delayed" DSN, and the instant after which a deferral gives up. */
export function giveUpAt(policy: RetryPolicy, arrivedAt: number): number {
  return arrivedAt + policy.giveUpAfter;
}

/** Whether the sender is owed the one delay warning now (the caller records that it was sent). */
export function delayWarningDue(
  policy: RetryPolicy,
  facts: { readonly arrivedAt: number; readonly now: number; readonly warned: boolean },
): boolean {
  if (policy.delayWarningAfter === null || facts.warned) return false;
  return (
    facts.now >= facts.arrivedAt + policy.delayWarningAfter && facts.now < giveUpAt(policy, facts.arrivedAt)
  );
}

/** Refuses a policy that would retry in a loop or give up before RFC 5321's minimum. */
export function validateRetryPolicy(policy: RetryPolicy): string[] {
  const problems: string[] = [];
  if (policy.schedule.some((wait) => !(wait >= minute)))
    problems.push('every scheduled wait is at least 1 minute');
  if (!(policy.repeatEvery >= minute)) problems.push('repeatEvery is at least 1 minute');
  if (!(policy.jitter >= 0 && policy.jitter < 1)) problems.push('jitter is a fraction in [0, 1)');
  // RFC 5321 §4.5.4.1: "the give-up time generally needs to be at least 4-5 days".
  if (!(policy.giveUpAfter >= 4 * day)) problems.push('giveUpAfter is at least 4 days (RFC 5321 §4.5.4.1)');
  if (
    policy.delayWarningAfter !== null &&
    !(policy.delayWarningAfter > 0 && policy.delayWarningAfter < policy.giveUpAfter)
  )
    problems.push('delayWarningAfter lies between 0 and giveUpAfter');
  return problems;
}

function describeDuration(milliseconds: number): string {
  if (milliseconds % day === 0) return `${milliseconds / day} days`;
  if (milliseconds % hour === 0) return `${milliseconds / hour} hours`;
  return `${Math.round(milliseconds / minute)} minutes`;
}
