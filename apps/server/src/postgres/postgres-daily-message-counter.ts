import type pg from 'pg';
import type { DailyMessageCounter } from '../policy/daily-message-counter.js';

/** Days kept besides today: yesterday's row may still be counted by a session that began then. */
const keptDays = 1;

/**
 * The per-user daily message count on PostgreSQL, shared by every node: one row per user and UTC
 * day, incremented by an atomic upsert, so N nodes together allow the limit once, not N times.
 * The limit is checked at MAIL FROM and counted once the message is accepted (mta-listener.ts), so
 * transactions already past MAIL FROM when the limit is reached still finish: the overshoot is
 * bounded by the sessions in progress at that moment, on one node or many alike.
 */
export class PostgresDailyMessageCounter implements DailyMessageCounter {
  readonly #pool: pg.Pool;
  /** The newest day this node has counted: a new one prunes the rows of days gone by. */
  #newestDay = '';

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async count(username: string, day: string): Promise<number> {
    const { rows } = await this.#pool.query<{ messages: number }>(
      'SELECT messages FROM daily_message_counts WHERE username = $1 AND day = $2',
      [username, day],
    );
    return rows[0]?.messages ?? 0;
  }

  async increment(username: string, day: string): Promise<void> {
    await this.#pool.query(
      `INSERT INTO daily_message_counts (username, day, messages) VALUES ($1, $2, 1)
       ON CONFLICT (username, day) DO UPDATE SET messages = daily_message_counts.messages + 1`,
      [username, day],
    );
    if (day > this.#newestDay) {
      this.#newestDay = day;
      await this.#pool.query('DELETE FROM daily_message_counts WHERE day < $1', [dayBefore(day, keptDays)]);
    }
  }
}

/** "2026-12-06" minus `days` days, as the same UTC day key. */
function dayBefore(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) - days * 86_400_000).toISOString().slice(0, 10);
}
