import type { Statement } from 'better-sqlite3';
import {
  type InboundLog,
  type InboundPageQuery,
  type InboundRecord,
  type InboundRow,
  inboundRecordOf,
} from '../inbound/inbound-log.js';
import type { SqliteDatabase } from './sqlite-database.js';

/** The inbound log in the app's SQLite database; rows are written as companion rows of their message. */
export class SqliteInboundLog implements InboundLog {
  readonly #statements: Record<'get' | 'first' | 'next', Statement>;

  constructor(database: SqliteDatabase) {
    const connection = database.connection;
    this.#statements = {
      get: connection.prepare('SELECT * FROM inbound_messages WHERE message_id = ?'),
      first: connection.prepare(
        'SELECT * FROM inbound_messages ORDER BY received_at_ms DESC, message_id DESC LIMIT ?',
      ),
      next: connection.prepare(`SELECT * FROM inbound_messages WHERE (received_at_ms, message_id) < (?, ?)
        ORDER BY received_at_ms DESC, message_id DESC LIMIT ?`),
    };
  }

  async list(query: InboundPageQuery): Promise<InboundRecord[]> {
    const rows =
      query.before === undefined
        ? this.#statements.first.all(query.limit)
        : this.#statements.next.all(query.before.receivedAtMs, query.before.messageId, query.limit);
    return (rows as InboundRow[]).map(inboundRecordOf);
  }

  async get(messageId: string): Promise<InboundRecord | null> {
    const row = this.#statements.get.get(messageId) as InboundRow | undefined;
    return row === undefined ? null : inboundRecordOf(row);
  }
}
