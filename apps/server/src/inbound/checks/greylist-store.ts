import type { ClientRecord, TripletRecord } from './greylist-decision.js';
import type { TripletKey } from './greylist-keys.js';

/** Where greylisting remembers triplets and clients: SQLite now, PostgreSQL later. */
export interface GreylistStore {
  findTriplet(key: TripletKey): Promise<TripletRecord | null>;
  saveTriplet(key: TripletKey, record: TripletRecord): Promise<void>;
  findClient(client: string): Promise<ClientRecord | null>;
  saveClient(client: string, record: ClientRecord): Promise<void>;
  /** Forgets triplets and clients last seen before this time; returns how many went. */
  prune(lastSeenBeforeMs: number): Promise<number>;
}
