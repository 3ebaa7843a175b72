import { SmtpUsageError } from '@smtp/protocol';

export interface TarpitOptions {
  /** The delay of the first tarpitted reply; later ones grow by this much each. */
  readonly delayMs: number;
  /** Refusals answered at once before tarpitting starts. Default 1: the second error waits. */
  readonly afterErrors?: number;
  /** The longest delay, well under the client's command timeout (RFC 5321 §4.5.3.2: 5 min). Default 10 s. */
  readonly maxDelayMs?: number;
}

/** Tarpitting as the connections apply it: validated, with the defaults filled in. */
export interface TarpitPolicy {
  readonly delayMs: number;
  readonly afterErrors: number;
  readonly maxDelayMs: number;
}

/** The options' policy, or null when tarpitting is off (the default). */
export function tarpitPolicy(options: TarpitOptions | undefined): TarpitPolicy | null {
  if (options === undefined || options.delayMs === 0) return null;
  const policy = {
    delayMs: options.delayMs,
    afterErrors: options.afterErrors ?? 1,
    maxDelayMs: options.maxDelayMs ?? 10_000,
  };
  for (const [name, value] of Object.entries(policy)) {
    if (!Number.isInteger(value) || value < 0)
      throw new SmtpUsageError(`tarpit.${name} must be a whole number ≥ 0, got ${value}`);
  }
  return policy;
}

/**
 * How long the reply to a session's `errorCount`-th refusal waits: nothing up to `afterErrors`,
 * then a delay that grows linearly with each error, capped (as sendmail's and Postfix's error
 * sleeps grow; a linear step keeps a legitimate client that errs a few times well within its
 * timeouts).
 */
export function tarpitDelayMs(policy: TarpitPolicy, errorCount: number): number {
  if (errorCount <= policy.afterErrors) return 0;
  return Math.min(policy.maxDelayMs, policy.delayMs * (errorCount - policy.afterErrors));
}
