/** What the sweeper needs from a connection: when it last heard from the peer, how long it may wait. */
export interface SweptConnection {
  /** `sweeper.tick` when the peer last sent something (or the timeout was armed). */
  activeTick: number;
  /** Ticks the peer may stay silent; 0 = no timeout. */
  timeoutTicks: number;
  /** `sweeper.tick` when the record being received (a command line, a message) began. */
  recordStartTick: number;
  /** Ticks the whole record may take, however often bytes arrive; 0 = no deadline. */
  recordDeadlineTicks: number;
  /** Whether that record is a command line: its deadline shrinks under load, a message's does not. */
  isLineRecord: boolean;
  /** Called once the peer has been silent too long, or a record passed its deadline. */
  expire(reason: 'idle' | 'deadline'): void;
}

/** Load shedding: while `isUnderLoad()` is true, idle timeouts and line deadlines are capped. */
export interface UnderLoad {
  readonly timeoutMs: number;
  isUnderLoad(): boolean;
}

/**
 * Idle timeouts for every connection of a server with one shared interval instead of a timer per
 * connection: a read only stores the current tick (no clearTimeout/setTimeout, no timer-list
 * re-insertion per packet), and an idle connection holds no Timeout object.
 *
 * Ticks count interval callbacks, not wall time, so a blocked event loop never makes a connection
 * look idle: one that was active in tick k expires no earlier than tick k + timeoutTicks + 1, that
 * is after at least timeoutTicks full periods (≥ the timeout), and at most about one period late.
 * Record deadlines count the same way from the record's first tick.
 */
export class IdleSweeper {
  /** Incremented by every sweep. */
  tick = 0;
  readonly periodMs: number;
  readonly #connections = new Set<SweptConnection>();
  readonly #underLoad: UnderLoad | null;
  readonly #underLoadTicks: number;
  #interval: NodeJS.Timeout | null = null;

  /** `shortestTimeoutMs`: the smallest timeout in use, which sets the resolution (a tenth of it). */
  constructor(shortestTimeoutMs: number, underLoad: UnderLoad | null = null) {
    this.periodMs = Math.min(1000, Math.max(5, Math.floor(shortestTimeoutMs / 10)));
    this.#underLoad = underLoad !== null && underLoad.timeoutMs > 0 ? underLoad : null;
    this.#underLoadTicks = this.#underLoad ? this.ticksFor(this.#underLoad.timeoutMs) : 0;
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
    // Decided once per sweep from the connection count: the same count gives the same timeouts.
    const cap = this.#underLoad?.isUnderLoad() ? this.#underLoadTicks : 0;
    for (const connection of this.#connections) {
      let { timeoutTicks, recordDeadlineTicks } = connection;
      if (cap > 0) {
        if (timeoutTicks > cap) timeoutTicks = cap;
        if (connection.isLineRecord && recordDeadlineTicks > cap) recordDeadlineTicks = cap;
      }
      const isIdle = timeoutTicks > 0 && tick - connection.activeTick > timeoutTicks;
      const isLate = recordDeadlineTicks > 0 && tick - connection.recordStartTick > recordDeadlineTicks;
      if (isIdle || isLate) {
        connection.timeoutTicks = 0; // once
        connection.recordDeadlineTicks = 0;
        connection.expire(isIdle ? 'idle' : 'deadline');
      }
    }
  }
}
