import type pg from 'pg';
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

const upsertTriplet = `INSERT INTO greylist_triplets
  (client, sender, recipient, first_seen_ms, last_seen_ms, pass_count) VALUES ($1, $2, $3, $4, $5, $6)
  ON CONFLICT (client, sender, recipient) DO UPDATE SET first_seen_ms = excluded.first_seen_ms,
  last_seen_ms = excluded.last_seen_ms, pass_count = excluded.pass_count`;

const upsertClient = (first: number) => `INSERT INTO greylist_clients (client, pass_count, last_seen_ms)
  VALUES ($${first}, $${first + 1}, $${first + 2}) ON CONFLICT (client) DO UPDATE SET
  pass_count = excluded.pass_count, last_seen_ms = excluded.last_seen_ms`;

/**
 * Greylisting on PostgreSQL, shared by every node's mx listeners: a sending MTA that retries on
 * another MX host (another node) finds its first attempt there, instead of being greylisted once
 * per node. One indexed read and one statement per recipient; a triplet and its client are saved
 * together in one statement (a writable CTE), so they are atomic as SQLite's transaction makes them.
 * Two nodes deciding on one triplet at once both write; the later write wins, and the worst that
 * does is one more 451 for the sender, as with any greylisting store.
 */
export class PostgresGreylistStore implements GreylistStore {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async findTriplet(key: TripletKey): Promise<TripletRecord | null> {
    const { rows } = await this.#pool.query<TripletRow>(
      `SELECT first_seen_ms, last_seen_ms, pass_count FROM greylist_triplets
       WHERE client = $1 AND sender = $2 AND recipient = $3`,
      [key.client, key.sender, key.recipient],
    );
    return tripletRecordOf(rows[0]);
  }

  async findClient(client: string): Promise<ClientRecord | null> {
    const { rows } = await this.#pool.query<ClientRow>(
      'SELECT pass_count, last_seen_ms FROM greylist_clients WHERE client = $1',
      [client],
    );
    return clientRecordOf(rows[0]);
  }

  async save({ key, triplet, client }: GreylistUpdate): Promise<void> {
    const tripletValues =
      triplet === null
        ? null
        : [key.client, key.sender, key.recipient, triplet.firstSeenMs, triplet.lastSeenMs, triplet.passCount];
    const clientValues = client === null ? null : [key.client, client.passCount, client.lastSeenMs];
    if (tripletValues !== null && clientValues !== null) {
      await this.#pool.query(`WITH saved_triplet AS (${upsertTriplet}) ${upsertClient(7)}`, [
        ...tripletValues,
        ...clientValues,
      ]);
    } else if (tripletValues !== null) await this.#pool.query(upsertTriplet, tripletValues);
    else if (clientValues !== null) await this.#pool.query(upsertClient(1), clientValues);
  }

  async prune(lastSeenBeforeMs: number): Promise<number> {
    const { rows } = await this.#pool.query<{ count: number }>(
      `WITH triplets AS (DELETE FROM greylist_triplets WHERE last_seen_ms < $1 RETURNING 1),
       clients AS (DELETE FROM greylist_clients WHERE last_seen_ms < $1 RETURNING 1)
       SELECT (SELECT count(*) FROM triplets) + (SELECT count(*) FROM clients) AS count`,
      [lastSeenBeforeMs],
    );
    return Number(rows[0]?.count ?? 0);
  }
}
