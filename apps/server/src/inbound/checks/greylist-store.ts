import type { ClientRecord, TripletRecord } from './greylist-decision.js';
import type { TripletKey } from './greylist-keys.js';

export interface GreylistUpdate {
  readonly key: TripletKey;
  readonly triplet: TripletRecord | null;
  readonly client: ClientRecord | null;
}

/** Where greylisting remembers triplets and clients: SQLite now, PostgreSQL later. */
export interface GreylistStore {
  findTriplet(key: TripletKey): Promise<TripletRecord | null>;
  findClient(client: string): Promise<ClientRecord | null>;
  /** Stores what a decision says, together (null: leave that record as it is). */
  save(update: GreylistUpdate): Promise<void>;
  /** Forgets triplets and clients last seen before this time; returns how many went. */
  prune(lastSeenBeforeMs: number): Promise<number>;
}
