import type pg from 'pg';
import {
  type InboundLog,
  type InboundPageQuery,
  type InboundRecord,
  type InboundRow,
  inboundRecordOf,
} from '../inbound/inbound-log.js';

/**
 * The inbound log on PostgreSQL, shared by every node: GET /api/v1/inbound on any node lists what
 * all the mx listeners received. Rows are written as companion rows of their message, as on SQLite.
 */
export class PostgresInboundLog implements InboundLog {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async list(query: InboundPageQuery): Promise<InboundRecord[]> {
    const { rows } =
      query.before === undefined
        ? await this.#pool.query<InboundRow>(
            'SELECT * FROM inbound_messages ORDER BY received_at_ms DESC, message_id DESC LIMIT $1',
            [query.limit],
          )
        : await this.#pool.query<InboundRow>(
            `SELECT * FROM inbound_messages WHERE (received_at_ms, message_id) < ($1, $2)
             ORDER BY received_at_ms DESC, message_id DESC LIMIT $3`,
            [query.before.receivedAtMs, query.before.messageId, query.limit],
          );
    return rows.map(inboundRecordOf);
  }

  async get(messageId: string): Promise<InboundRecord | null> {
    const { rows } = await this.#pool.query<InboundRow>(
      'SELECT * FROM inbound_messages WHERE message_id = $1',
      [messageId],
    );
    const row = rows[0];
    return row === undefined ? null : inboundRecordOf(row);
  }
}
