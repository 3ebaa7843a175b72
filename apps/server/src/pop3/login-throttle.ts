/** At most this many addresses are remembered; the oldest windows go first. */
const maxTrackedAddresses = 10_000;

interface FailureWindow {
  readonly startedAtMs: number;
  failures: number;
}

/**
 * Failed POP3 logins per client address in a fixed window: once an address reaches the limit, its
 * logins are refused unchecked until the window ends (guessing passwords stops paying). Pure: the
 * caller passes the time.
 */
export class LoginThrottle {
  readonly #maxFailures: number;
  readonly #windowMs: number;
  readonly #windows = new Map<string, FailureWindow>();

  constructor(options: { readonly maxFailures: number; readonly windowMs: number }) {
    this.#maxFailures = options.maxFailures;
    this.#windowMs = options.windowMs;
  }

  /** Whether a login from `address` is refused without checking its password. 0 failures allowed = never. */
  isBlocked(address: string, nowMs: number): boolean {
    if (this.#maxFailures === 0) return false;
    const window = this.#current(address, nowMs);
    return window !== null && window.failures >= this.#maxFailures;
  }

  recordFailure(address: string, nowMs: number): void {
    if (this.#maxFailures === 0) return;
    const window = this.#current(address, nowMs);
    if (window !== null) {
      window.failures += 1;
      return;
    }
    if (this.#windows.size >= maxTrackedAddresses) {
      const oldest = this.#windows.keys().next().value;
      if (oldest !== undefined) this.#windows.delete(oldest);
    }
    this.#windows.set(address, { startedAtMs: nowMs, failures: 1 });
  }

  /** A right password clears the address's count. */
  recordSuccess(address: string): void {
    this.#windows.delete(address);
  }

  #current(address: string, nowMs: number): FailureWindow | null {
    const window = this.#windows.get(address);
    if (window === undefined) return null;
    if (nowMs - window.startedAtMs < this.#windowMs) return window;
    this.#windows.delete(address);
    return null;
  }
}
