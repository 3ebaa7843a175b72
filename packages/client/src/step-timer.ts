/**
 * One timer per connection for "the server owes us something by then". Every step moves the deadline;
 * the underlying Node timer is created only when the new deadline is earlier than the one already
 * scheduled, so a busy connection re-arms with a clock read instead of a setTimeout/clearTimeout pair per
 * command. When the scheduled timer fires early (the deadline moved on), it re-schedules for the rest.
 *
 * The timer is unref'd: a connection waiting for a reply is kept alive by its socket, and an idle pool
 * must not keep the process running.
 */
export class StepTimer {
  readonly #onExpire: (kind: string, timeoutMs: number) => void;
  #timer: NodeJS.Timeout | undefined;
  /** When the scheduled Node timer fires (performance.now() time). */
  #firesAt = Number.POSITIVE_INFINITY;
  #deadlineAt = Number.POSITIVE_INFINITY;
  #kind = '';
  #timeoutMs = 0;

  constructor(onExpire: (kind: string, timeoutMs: number) => void) {
    this.#onExpire = onExpire;
  }

  get isArmed(): boolean {
    return this.#deadlineAt !== Number.POSITIVE_INFINITY;
  }

  /** Expire `timeoutMs` from now, reporting `kind`, unless armed again or disarmed before. */
  arm(kind: string, timeoutMs: number): void {
    const now = performance.now();
    this.#kind = kind;
    this.#timeoutMs = timeoutMs;
    this.#deadlineAt = now + timeoutMs;
    if (this.#deadlineAt < this.#firesAt) this.#schedule(timeoutMs, this.#deadlineAt);
  }

  disarm(): void {
    this.#deadlineAt = Number.POSITIVE_INFINITY;
  }

  /** Disarms and releases the Node timer (the connection is gone). */
  stop(): void {
    this.#deadlineAt = Number.POSITIVE_INFINITY;
    this.#firesAt = Number.POSITIVE_INFINITY;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(delayMs: number, firesAt: number): void {
    clearTimeout(this.#timer);
    this.#firesAt = firesAt;
    this.#timer = setTimeout(this.#fire, Math.max(1, Math.ceil(delayMs)));
    this.#timer.unref();
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    this.#firesAt = Number.POSITIVE_INFINITY;
    if (this.#deadlineAt === Number.POSITIVE_INFINITY) return;
    const remainingMs = this.#deadlineAt - performance.now();
    if (remainingMs > 0) {
      this.#schedule(remainingMs, this.#deadlineAt);
      return;
    }
    this.#deadlineAt = Number.POSITIVE_INFINITY;
    this.#onExpire(this.#kind, this.#timeoutMs);
  };
}
