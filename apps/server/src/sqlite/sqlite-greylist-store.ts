import type { Statement } from 'better-sqlite3';
import Database from 'better-sqlite3';
import type { ClientRecord, TripletRecord } from '../inbound/checks/greylist-decision.js';
import type { TripletKey } from '../inbound/checks/greylist-keys.js';
import {
  type ClientRow,
  clientRecordOf,
  type GreylistStore,
  type GreylistUpdate,
  type TripletRow,
  tripletRecordOf,
} from '../inbound/checks/greylist-store.js';

/**
 * A connection of its own for greylisting, to the app's database file (whose migrations made the
 * tables): WAL with synchronous=NORMAL, so a greylisting update does not wait for an fsync. A power
 * cut may lose the last updates, and the worst that does is one more 451 for a sender, while an
 * fsync per RCPT would cap the mx listener at a few hundred recipients a second (bench/inbound-checks.ts).
 */
export function openGreylistConnection(path: string): Database.Database {
  const connection = new Database(path);
  connection.pragma('journal_mode = WAL');
  connection.pragma('synchronous = NORMAL');
  connection.pragma('busy_timeout = 5000');
  return connection;
}

/**
 * Greylisting in the app's SQLite database: one small indexed read and one transaction of at most
 * two single-row upserts per recipient. Give it openGreylistConnection(path) (or, for ':memory:'
 * databases, SqliteDatabase.connection).
 */
export class SqliteGreylistStore implements GreylistStore {
  readonly #saveBoth: (update: GreylistUpdate) => void;
  readonly #statements: Record<
    'findTriplet' | 'saveTriplet' | 'findClient' | 'saveClient' | 'pruneTriplets' | 'pruneClients',
    Statement
  >;

  /** `connection`: SqliteDatabase.connection, whose schema has the greylist tables. */
  constructor(connection: Database.Database) {
    const statements = {
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
    this.#statements = statements;
    this.#saveBoth = connection.transaction(({ key, triplet, client }: GreylistUpdate) => {
      if (triplet !== null)
        statements.saveTriplet.run(
          key.client,
          key.sender,
          key.recipient,
          triplet.firstSeenMs,
          triplet.lastSeenMs,
          triplet.passCount,
        );
      if (client !== null) statements.saveClient.run(key.client, client.passCount, client.lastSeenMs);
    });
  }

  async findTriplet(key: TripletKey): Promise<TripletRecord | null> {
    return tripletRecordOf(
      this.#statements.findTriplet.get(key.client, key.sender, key.recipient) as TripletRow | undefined,
    );
  }

  async findClient(client: string): Promise<ClientRecord | null> {
    return clientRecordOf(this.#statements.findClient.get(client) as ClientRow | undefined);
  }

  async save(update: GreylistUpdate): Promise<void> {
    if (update.triplet === null && update.client === null) return;
    this.#saveBoth(update);
  }

  async prune(lastSeenBeforeMs: number): Promise<number> {
    return (
      this.#statements.pruneTriplets.run(lastSeenBeforeMs).changes +
      this.#statements.pruneClients.run(lastSeenBeforeMs).changes
    );
  }
}
