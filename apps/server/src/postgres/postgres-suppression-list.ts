import type pg from 'pg';
import {
  type Suppression,
  type SuppressionList,
  type SuppressionPageQuery,
  suppressionAddress,
} from '../suppression/suppression-list.js';

interface SuppressionRow {
  readonly address: string;
  readonly reason: string;
  readonly created_at_ms: number;
  readonly message_id: string | null;
  readonly delivery_id: number | null;
}

/**
 * The suppression list on PostgreSQL, shared by every node: a hard bounce one node records makes
 * every node refuse the address at RCPT, and the API of any node lists and removes entries. Each
 * call is one statement, so it needs no transaction; the primary key keeps the first entry when
 * two nodes fail the same address at once.
 */
export class PostgresSuppressionList implements SuppressionList {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async add(suppression: Suppression): Promise<void> {
    await this.#pool.query(
      `INSERT INTO suppressions (address, reason, created_at_ms, message_id, delivery_id)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT (address) DO NOTHING`,
      [
        suppressionAddress(suppression.address),
        suppression.reason,
        suppression.createdAtMs,
        suppression.messageId,
        suppression.deliveryId,
      ],
    );
  }

  async find(address: string): Promise<Suppression | null> {
    const { rows } = await this.#pool.query<SuppressionRow>('SELECT * FROM suppressions WHERE address = $1', [
      suppressionAddress(address),
    ]);
    return rows[0] === undefined ? null : toSuppression(rows[0]);
  }

  async list(query: SuppressionPageQuery): Promise<Suppression[]> {
    const { rows } =
      query.before === undefined
        ? await this.#pool.query<SuppressionRow>(
            'SELECT * FROM suppressions ORDER BY created_at_ms DESC, address DESC LIMIT $1',
            [query.limit],
          )
        : await this.#pool.query<SuppressionRow>(
            `SELECT * FROM suppressions WHERE (created_at_ms, address) < ($1::bigint, $2::text)
             ORDER BY created_at_ms DESC, address DESC LIMIT $3`,
            [query.before.createdAtMs, query.before.address, query.limit],
          );
    return rows.map(toSuppression);
  }

  async remove(address: string): Promise<boolean> {
    const { rowCount } = await this.#pool.query('DELETE FROM suppressions WHERE address = $1', [
      suppressionAddress(address),
    ]);
    return (rowCount ?? 0) > 0;
  }
}

function toSuppression(row: SuppressionRow): Suppression {
  return {
    address: row.address,
    reason: row.reason,
    createdAtMs: row.created_at_ms,
    messageId: row.message_id,
    deliveryId: row.message_id === null ? null : row.delivery_id,
  };
}
