/**
 * Messages a user submitted on a UTC day. Injected into the listener: one node keeps it in memory;
 * on PostgreSQL every node shares one (postgres/postgres-daily-message-counter.ts).
 */
export interface DailyMessageCounter {
  count(username: string, day: string): Promise<number> | number;
  /** Called once per accepted message. */
  increment(username: string, day: string): Promise<void> | void;
}

/** "2026-12-06" for a time in ms: the key the limit resets on (UTC, so every node agrees). */
export function utcDayOf(timeMs: number): string {
  return new Date(timeMs).toISOString().slice(0, 10);
}

/** One node's counter. Keeps only the newest day seen, so it never grows past one day of users. */
export class InMemoryDailyMessageCounter implements DailyMessageCounter {
  #day = '';
  readonly #counts = new Map<string, number>();

  count(username: string, day: string): number {
    return day === this.#day ? (this.#counts.get(username) ?? 0) : 0;
  }

  increment(username: string, day: string): void {
    if (day !== this.#day) {
      // A late increment for a day already past: that day's limit no longer matters.
      if (day < this.#day) return;
      this.#day = day;
      this.#counts.clear();
    }
    this.#counts.set(username, (this.#counts.get(username) ?? 0) + 1);
  }
}
