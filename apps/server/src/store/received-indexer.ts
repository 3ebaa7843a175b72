import type Database from 'better-sqlite3';
import type { GroupCommitQueue } from './sqlite-writes.js';
import type { MessageSummary, ParsedContent } from './store.js';

/** Raw bytes kept for their parse; beyond this the oldest are read back from the database instead. */
const defaultMaxRememberedBytes = 64 * 1024 * 1024;

/**
 * Indexes received messages: parses each from its raw bytes and saves the parse through the group
 * commit queue (its parse lane). It runs next to the queue, so a message's bytes come from memory
 * (remembered when its receive was committed) or from this connection, never across a thread.
 */
export class ReceivedIndexer {
  readonly #queue: GroupCommitQueue;
  readonly #parse: (raw: Uint8Array) => Promise<ParsedContent>;
  readonly #maxRememberedBytes: number;
  readonly #readUnparsedRaw: Database.Statement;
  /** Oldest first (Map keeps insertion order). */
  readonly #remembered = new Map<string, Uint8Array>();
  #rememberedBytes = 0;

  constructor(options: {
    readonly database: Database.Database;
    readonly queue: GroupCommitQueue;
    readonly parse: (raw: Uint8Array) => Promise<ParsedContent>;
    readonly maxRememberedBytes?: number;
  }) {
    this.#queue = options.queue;
    this.#parse = options.parse;
    this.#maxRememberedBytes = options.maxRememberedBytes ?? defaultMaxRememberedBytes;
    this.#readUnparsedRaw = options.database
      .prepare(
        'SELECT r.raw FROM messages m JOIN message_raw r ON r.seq = m.seq WHERE m.id = ? AND m.is_parsed = 0',
      )
      .pluck();
  }

  /** Keeps the bytes of a message whose receive just committed, for its coming index(). */
  remember(id: string, raw: Uint8Array): void {
    this.#remembered.set(id, raw);
    this.#rememberedBytes += raw.byteLength;
    for (const [oldestId, oldestRaw] of this.#remembered) {
      if (this.#rememberedBytes <= this.#maxRememberedBytes) break;
      this.#remembered.delete(oldestId);
      this.#rememberedBytes -= oldestRaw.byteLength;
    }
  }

  /** Parses and saves; the summary, or null when the message is gone or parsed already. */
  async index(id: string): Promise<MessageSummary | null> {
    const raw = this.#take(id) ?? (this.#readUnparsedRaw.get(id) as Uint8Array | undefined);
    if (raw === undefined) return null;
    const parsed = await this.#parse(raw);
    return (await this.#queue.enqueue({ kind: 'saveParsed', id, parsed })) as MessageSummary | null;
  }

  #take(id: string): Uint8Array | undefined {
    const raw = this.#remembered.get(id);
    if (raw !== undefined) {
      this.#remembered.delete(id);
      this.#rememberedBytes -= raw.byteLength;
    }
    return raw;
  }
}
