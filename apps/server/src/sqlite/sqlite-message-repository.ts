import type { Statement } from 'better-sqlite3';
import type { LeasedDelivery } from '../queue/delivery-queue.js';
import type { MessageRepository, Receipt, ReceivedMessage } from '../spool/message-repository.js';
import { type MessageSource, readMessageSource } from '../spool/read-message-source.js';
import type { SqliteDatabase } from './sqlite-database.js';
import { parseDetail } from './sqlite-rows.js';

/**
 * The spool on SQLite: receive() drains the message, then group-commits it with fsync (on the
 * writer thread in the build) together with the receipt's companion rows.
 */
export class SqliteMessageRepository implements MessageRepository {
  readonly #database: SqliteDatabase;
  readonly #statements: { readonly getRaw: Statement; readonly getReceived: Statement };

  constructor(database: SqliteDatabase) {
    this.#database = database;
    this.#statements = {
      getRaw: database.connection.prepare(
        'SELECT r.raw FROM messages m JOIN message_raw r ON r.seq = m.seq WHERE m.id = ?',
      ),
      getReceived: database.connection.prepare(`SELECT m.received_at_ms, m.detail_json, r.raw
        FROM messages m JOIN message_raw r ON r.seq = m.seq WHERE m.id = ?`),
    };
  }

  async receive(source: MessageSource, receipt: Receipt): Promise<ReceivedMessage> {
    const raw = await readMessageSource(source);
    // Only these fields: the request crosses to the writer thread by structured clone.
    const { id, receivedAtMs, envelope, session, companionRows = [] } = receipt;
    const message: ReceivedMessage = { id, receivedAtMs, envelope, session, raw };
    const deliveryCount = companionRows.filter((row) => row.table === 'deliveries').length;
    const leases = deliveryCount === 0 ? null : this.#database.insertLeases;
    const lease = leases?.request(id, deliveryCount) ?? null;
    let leased: unknown;
    try {
      leased = await this.#database.write({
        kind: 'insertReceived',
        message,
        companionRows,
        ...(lease === null ? {} : { lease }),
      });
    } catch (error) {
      if (lease !== null) leases?.cancel(deliveryCount);
      throw error;
    }
    if (lease !== null) leases?.adopt(id, leased as LeasedDelivery[], deliveryCount);
    return message;
  }

  async getRaw(id: string): Promise<Uint8Array | null> {
    const row = this.#statements.getRaw.get(id) as { raw: Buffer } | undefined;
    return row === undefined ? null : asUint8Array(row.raw);
  }

  async getReceived(id: string): Promise<ReceivedMessage | null> {
    const row = this.#statements.getReceived.get(id) as
      | { received_at_ms: number; detail_json: string; raw: Buffer }
      | undefined;
    if (row === undefined) return null;
    const { envelope, session } = parseDetail(row.detail_json);
    return { id, receivedAtMs: row.received_at_ms, envelope, session, raw: asUint8Array(row.raw) };
  }
}

/** A plain Uint8Array view of a Buffer from the driver, without copying. */
function asUint8Array(bytes: Buffer): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
