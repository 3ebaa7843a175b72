import type Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';
import type { ClientRecord, TripletRecord } from '../inbound/checks/greylist-decision.js';
import type { TripletKey } from '../inbound/checks/greylist-keys.js';
import type { GreylistStore } from '../inbound/checks/greylist-store.js';

interface TripletRow {
  readonly first_seen_ms: number;
  readonly last_seen_ms: number;
  readonly pass_count: number;
}

interface ClientRow {
  readonly pass_count: number;
  readonly last_seen_ms: number;
}

/**
 * Greylisting in the app's SQLite database, on this thread's connection: one small indexed read and
 * at most two single-row upserts per recipient, far below the cost of the message itself.
 */
export class SqliteGreylistStore implements GreylistStore {
  readonly #statements: Record<
    'findTriplet' | 'saveTriplet' | 'findClient' | 'saveClient' | 'pruneTriplets' | 'pruneClients',
    Statement
  >;

  /** `connection`: SqliteDatabase.connection, whose schema has the greylist tables. */
  constructor(connection: Database.Database) {
    this.#statements = {
      findTriplet: connection.prepare(
        'SELECT * FROM greylist_triplets WHERE client = ? AND sender = ? AND recipient = ?',
      ),
      saveTriplet: connection.prepare(`INSERT INTO greylist_triplets
        (client, sender, recipient, first_seen_ms, last_seen_ms, pass_count) VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (client, sender, recipient) DO UPDATE SET first_seen_ms = excluded.first_seen_ms,
        last_seen_ms = excluded.last_seen_ms, pass_count = excluded.pass_count`),
      findClient: connection.prepare('SELECT * FROM greylist_clients WHERE client = ?'),
      saveClient: connection.prepare(`INSERT INTO greylist_clients (client, pass_count, last_seen_ms)
        VALUES (?, ?, ?) ON CONFLICT (client) DO UPDATE SET pass_count = excluded.pass_count,
        last_seen_ms = excluded.last_seen_ms`),
      pruneTriplets: connection.prepare('DELETE FROM greylist_triplets WHERE last_seen_ms < ?'),
      pruneClients: connection.prepare('DELETE FROM greylist_clients WHERE last_seen_ms < ?'),
    };
  }

  async findTriplet(key: TripletKey): Promise<TripletRecord | null> {
    const row = this.#statements.findTriplet.get(key.client, key.sender, key.recipient) as
      | TripletRow
      | undefined;
    return row === undefined
      ? null
      : { firstSeenMs: row.first_seen_ms, lastSeenMs: row.last_seen_ms, passCount: row.pass_count };
  }

  async saveTriplet(key: TripletKey, record: TripletRecord): Promise<void> {
    this.#statements.saveTriplet.run(
      key.client,
      key.sender,
      key.recipient,
      record.firstSeenMs,
      record.lastSeenMs,
      record.passCount,
    );
  }

  async findClient(client: string): Promise<ClientRecord | null> {
    const row = this.#statements.findClient.get(client) as ClientRow | undefined;
    return row === undefined ? null : { passCount: row.pass_count, lastSeenMs: row.last_seen_ms };
  }

  async saveClient(client: string, record: ClientRecord): Promise<void> {
    this.#statements.saveClient.run(client, record.passCount, record.lastSeenMs);
  }

  async prune(lastSeenBeforeMs: number): Promise<number> {
    return (
      this.#statements.pruneTriplets.run(lastSeenBeforeMs).changes +
      this.#statements.pruneClients.run(lastSeenBeforeMs).changes
    );
  }
}
