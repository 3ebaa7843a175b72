import type pg from 'pg';
import type {
  CompanionRow,
  MessageRepository,
  Receipt,
  ReceivedMessage,
  SmtpSessionDetails,
  StoredEnvelope,
} from '../spool/message-repository.js';
import { type MessageSource, readMessageSource } from '../spool/read-message-source.js';
import { inTransaction } from './postgres-pool.js';
import { queueChannel } from './queue-notifications.js';

/** Table and column names of companion rows become SQL identifiers: nothing else passes. */
const identifierPattern = /^[A-Za-z_][A-Za-z0-9_]*$/;

interface MessageRow {
  id: string;
  received_at_ms: number;
  envelope: StoredEnvelope;
  session: SmtpSessionDetails | null;
  raw: Buffer;
}

/**
 * The spool on PostgreSQL, shared by every node: the message (bytes in a bytea, envelope and
 * session as jsonb) and its companion rows (the router's deliveries, a DSN's notices) commit in one
 * transaction, so receive() resolving means both are durable (PostgreSQL's commit: WAL flushed, with
 * the default synchronous_commit). A message with deliveries also NOTIFYs the queue channel in that
 * transaction, delivered to the listening nodes on commit.
 */
export class PostgresMessageRepository implements MessageRepository {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async receive(source: MessageSource, receipt: Receipt): Promise<ReceivedMessage> {
    const raw = await readMessageSource(source);
    const { id, receivedAtMs, envelope, session, companionRows = [] } = receipt;
    await inTransaction(this.#pool, async (client) => {
      await client.query(
        'INSERT INTO messages (id, received_at_ms, envelope, session, raw) VALUES ($1, $2, $3, $4, $5)',
        [id, receivedAtMs, JSON.stringify(envelope), session === null ? null : JSON.stringify(session), raw],
      );
      for (const row of companionRows) await insertCompanion(client, row);
      if (companionRows.some((row) => row.table === 'deliveries'))
        await client.query('SELECT pg_notify($1, $2)', [queueChannel, 'queued']);
    });
    return { id, receivedAtMs, envelope, session, raw };
  }

  async getReceived(id: string): Promise<ReceivedMessage | null> {
    const { rows } = await this.#pool.query<MessageRow>('SELECT * FROM messages WHERE id = $1', [id]);
    const row = rows[0];
    if (row === undefined) return null;
    return {
      id: row.id,
      receivedAtMs: row.received_at_ms,
      envelope: row.envelope,
      session: row.session,
      raw: row.raw,
    };
  }

  async getRaw(id: string): Promise<Uint8Array | null> {
    const { rows } = await this.#pool.query<{ raw: Buffer }>('SELECT raw FROM messages WHERE id = $1', [id]);
    return rows[0]?.raw ?? null;
  }
}

/** A companion row, in the message's transaction: if it fails, the message is not stored either. */
async function insertCompanion(client: pg.PoolClient, row: CompanionRow): Promise<void> {
  const columns = Object.keys(row.values);
  for (const name of [row.table, ...columns]) {
    if (!identifierPattern.test(name)) throw new Error(`Not a table or column name: ${JSON.stringify(name)}`);
  }
  await client.query(
    `INSERT INTO "${row.table}" (${columns.map((column) => `"${column}"`).join(', ')})
     VALUES (${columns.map((_, index) => `$${index + 1}`).join(', ')})`,
    columns.map((column) => row.values[column]),
  );
}
