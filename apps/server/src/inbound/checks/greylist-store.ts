import type { ClientRecord, TripletRecord } from './greylist-decision.js';
import type { TripletKey } from './greylist-keys.js';

export interface GreylistUpdate {
  readonly key: TripletKey;
  readonly triplet: TripletRecord | null;
  readonly client: ClientRecord | null;
}

/** A greylist_triplets row, as SQLite and PostgreSQL store it. */
export interface TripletRow {
  readonly first_seen_ms: number;
  readonly last_seen_ms: number;
  readonly pass_count: number;
}

/** A greylist_clients row, as SQLite and PostgreSQL store it. */
export interface ClientRow {
  readonly pass_count: number;
  readonly last_seen_ms: number;
}

export function tripletRecordOf(row: TripletRow | undefined): TripletRecord | null {
  return row === undefined
    ? null
    : { firstSeenMs: row.first_seen_ms, lastSeenMs: row.last_seen_ms, passCount: row.pass_count };
}

export function clientRecordOf(row: ClientRow | undefined): ClientRecord | null {
  return row === undefined ? null : { passCount: row.pass_count, lastSeenMs: row.last_seen_ms };
}

/** Where greylisting remembers triplets and clients: the app's SQLite file, or PostgreSQL for several nodes. */
export interface GreylistStore {
  findTriplet(key: TripletKey): Promise<TripletRecord | null>;
  findClient(client: string): Promise<ClientRecord | null>;
  /** Stores what a decision says, together (null: leave that record as it is). */
  save(update: GreylistUpdate): Promise<void>;
  /** Forgets triplets and clients last seen before this time; returns how many went. */
  prune(lastSeenBeforeMs: number): Promise<number>;
}
