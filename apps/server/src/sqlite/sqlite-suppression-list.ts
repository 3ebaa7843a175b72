import type { Statement } from 'better-sqlite3';
import {
  type Suppression,
  type SuppressionList,
  type SuppressionPageQuery,
  suppressionAddress,
} from '../suppression/suppression-list.js';
import type { SqliteDatabase } from './sqlite-database.js';

interface SuppressionRow {
  readonly address: string;
  readonly reason: string;
  readonly created_at_ms: number;
  readonly message_id: string;
  readonly delivery_id: number;
}

/**
 * An operator's entry has no message or delivery: the columns (NOT NULL since the table was made)
 * hold these instead, which no queued message can have (message ids are never empty).
 */
const operatorEntry = { messageId: '', deliveryId: 0 } as const;

/**
 * The suppression list in the app's SQLite database. Its writes are rare (one per hard failure or
 * API call) and small, so they use this thread's connection, as deletes and flags do.
 */
export class SqliteSuppressionList implements SuppressionList {
  readonly #statements: Record<'insert' | 'find' | 'first' | 'next' | 'remove', Statement>;

  constructor(database: SqliteDatabase) {
    const connection = database.connection;
    this.#statements = {
      insert: connection.prepare(`INSERT OR IGNORE INTO suppressions
        (address, reason, created_at_ms, message_id, delivery_id) VALUES (?, ?, ?, ?, ?)`),
      find: connection.prepare('SELECT * FROM suppressions WHERE address = ?'),
      first: connection.prepare(
        'SELECT * FROM suppressions ORDER BY created_at_ms DESC, address DESC LIMIT ?',
      ),
      next: connection.prepare(`SELECT * FROM suppressions WHERE (created_at_ms, address) < (?, ?)
        ORDER BY created_at_ms DESC, address DESC LIMIT ?`),
      remove: connection.prepare('DELETE FROM suppressions WHERE address = ?'),
    };
  }

  async add(suppression: Suppression): Promise<void> {
    this.#statements.insert.run(
      suppressionAddress(suppression.address),
      suppression.reason,
      suppression.createdAtMs,
      suppression.messageId ?? operatorEntry.messageId,
      suppression.deliveryId ?? operatorEntry.deliveryId,
    );
  }

  async find(address: string): Promise<Suppression | null> {
    const row = this.#statements.find.get(suppressionAddress(address)) as SuppressionRow | undefined;
    return row === undefined ? null : toSuppression(row);
  }

  async list(query: SuppressionPageQuery): Promise<Suppression[]> {
    const rows =
      query.before === undefined
        ? this.#statements.first.all(query.limit)
        : this.#statements.next.all(query.before.createdAtMs, query.before.address, query.limit);
    return (rows as SuppressionRow[]).map(toSuppression);
  }

  async remove(address: string): Promise<boolean> {
    return this.#statements.remove.run(suppressionAddress(address)).changes > 0;
  }
}

function toSuppression(row: SuppressionRow): Suppression {
  return {
    address: row.address,
    reason: row.reason,
    createdAtMs: row.created_at_ms,
    messageId: row.message_id === operatorEntry.messageId ? null : row.message_id,
    deliveryId: row.message_id === operatorEntry.messageId ? null : row.delivery_id,
  };
}
