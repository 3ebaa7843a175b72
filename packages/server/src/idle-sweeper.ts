/** What the sweeper needs from a connection: when it last heard from the peer, how long it may wait. */
export interface SweptConnection {
  /** `sweeper.tick` when the peer last sent something (or the timeout was armed). */
  activeTick: number;
  /** Ticks the peer may stay silent; 0 = no timeout. */
  timeoutTicks: number;
  /** Called once the peer has been silent too long. */
  expire(): void;
}

/**
 * Idle timeouts for every connection of a server with one shared interval instead of a timer per
 * connection: a read only stores the current tick (no clearTimeout/setTimeout, no timer-list
 * re-insertion per packet), and an idle connection holds no Timeout object.
 *
 * Ticks count interval callbacks, not wall time, so a blocked event loop never makes a connection
 * look idle: one that was active in tick k expires no earlier than tick k + timeoutTicks + 1, that
 * is after at least timeoutTicks full periods (≥ the timeout), and at most about one period late.
 */
export class IdleSweeper {
  /** Incremented by every sweep. */
  tick = 0;
  readonly periodMs: number;
  readonly #connections = new Set<SweptConnection>();
  #interval: NodeJS.Timeout | null = null;

  /** `shortestTimeoutMs`: the smallest timeout in use, which sets the resolution (a tenth of it). */
  constructor(shortestTimeoutMs: number) {
    this.periodMs = Math.min(1000, Math.max(5, Math.floor(shortestTimeoutMs / 10)));
  }

  /** How many ticks make at least `timeoutMs`. */
  ticksFor(timeoutMs: number): number {
    return timeoutMs > 0 ? Math.max(1, Math.ceil(timeoutMs / this.periodMs)) : 0;
  }

  add(connection: SweptConnection): void {
    this.#connections.add(connection);
    if (this.#interval === null) {
      this.#interval = setInterval(() => this.#sweep(), this.periodMs);
      this.#interval.unref();
    }
  }

  delete(connection: SweptConnection): void {
    this.#connections.delete(connection);
    if (this.#connections.size === 0 && this.#interval !== null) {
      clearInterval(this.#interval);
      this.#interval = null;
    }
  }

  #sweep(): void {
    const tick = ++this.tick;
    for (const connection of this.#connections) {
      const { timeoutTicks } = connection;
      if (timeoutTicks > 0 && tick - connection.activeTick > timeoutTicks) {
        connection.timeoutTicks = 0; // once
        connection.expire();
      }
    }
  }
}
