import { randomBytes } from 'node:crypto';

/** An event with the id its stream gave it (the SSE `id:` field). */
export interface IdentifiedEvent<TEvent> {
  readonly id: string;
  readonly event: TEvent;
}

/**
 * Events of a bus numbered and the latest `capacity` of them kept, so a client that reconnects
 * with `Last-Event-ID` gets what it missed instead of refreshing everything. Ids are
 * `<run>-<number>`: after a restart (another run) nothing is replayed and the client refreshes.
 */
export class EventReplay<TEvent> {
  readonly #run = randomBytes(4).toString('hex');
  readonly #capacity: number;
  readonly #recent: IdentifiedEvent<TEvent>[] = [];
  readonly #followers = new Set<(entry: IdentifiedEvent<TEvent>) => void>();
  #nextNumber = 1;

  constructor(subscribe: (listener: (event: TEvent) => void) => () => void, capacity = 1000) {
    this.#capacity = capacity;
    subscribe((event) => {
      const entry = { id: `${this.#run}-${this.#nextNumber++}`, event };
      this.#recent.push(entry);
      if (this.#recent.length > this.#capacity) this.#recent.shift();
      for (const follower of this.#followers) follower(entry);
    });
  }

  /**
   * Live events for `listener` from now on, and those after `lastEventId` that it missed: null when
   * they cannot all be given (no id, another run's, or older than what is kept).
   */
  follow(
    lastEventId: string | undefined,
    listener: (entry: IdentifiedEvent<TEvent>) => void,
  ): { readonly missed: readonly IdentifiedEvent<TEvent>[] | null; stop(): void } {
    this.#followers.add(listener);
    return { missed: this.#missedAfter(lastEventId), stop: () => this.#followers.delete(listener) };
  }

  #missedAfter(lastEventId: string | undefined): readonly IdentifiedEvent<TEvent>[] | null {
    const match = lastEventId === undefined ? null : /^([0-9a-f]+)-(\d+)$/.exec(lastEventId.trim());
    if (match === null || match[1] !== this.#run) return null;
    const last = Number(match[2]);
    if (last >= this.#nextNumber) return null; // not an id this run gave
    const oldest = this.#nextNumber - this.#recent.length;
    if (last < oldest - 1) return null; // some of what it missed is no longer kept
    return this.#recent.slice(last - oldest + 1);
  }
}
