import type Database from 'better-sqlite3';
import type { MessageSummary } from '../capture/mailbox-index.js';
import type { MessageParser } from '../mime/message-parser.js';
import { type ParseScope, parseInScope } from '../mime/parse-message.js';
import type { ParsedMessage } from '../mime/parsed-message.js';
import type { GroupCommitQueue } from './sqlite-writes.js';

/**
 * Indexes received messages: parses each from its raw bytes and saves the parse through the group
 * commit queue (its parse lane). It runs next to the queue, so a message's bytes come from the
 * queue's memory (kept since its receive was committed) or from this connection, never across a
 * thread.
 */
export class ReceivedIndexer {
  readonly #queue: GroupCommitQueue;
  readonly #parse: MessageParser;
  readonly #readUnparsedRaw: Database.Statement;

  constructor(options: {
    readonly database: Database.Database;
    readonly queue: GroupCommitQueue;
    readonly parse: MessageParser;
  }) {
    this.#queue = options.queue;
    this.#parse = options.parse;
    this.#readUnparsedRaw = options.database
      .prepare(
        'SELECT r.raw FROM messages m JOIN message_raw r ON r.seq = m.seq WHERE m.id = ? AND m.is_parsed = 0',
      )
      .pluck();
  }

  /**
   * Parses and saves; the summary, or null when the message is gone or parsed already. A header
   * section is parsed right here: it is small, and a trip to a parse worker would cost more.
   */
  async index(id: string, scope: ParseScope = 'message'): Promise<MessageSummary | null> {
    const raw = this.#queue.rememberedRaw(id) ?? (this.#readUnparsedRaw.get(id) as Uint8Array | undefined);
    if (raw === undefined) return null;
    // Parse commits wait for parses underway (adaptive batching), so announce this one, and settle
    // it only once its save is queued: the queue then decides with the save counted.
    this.#queue.parseStarted();
    let parsed: ParsedMessage;
    try {
      parsed = await parseInScope(raw, scope, this.#parse);
    } catch (error) {
      this.#queue.parseSettled();
      throw error;
    }
    const saved = this.#queue.enqueue({ kind: 'saveParsed', id, parsed });
    this.#queue.parseSettled();
    return (await saved) as MessageSummary | null;
  }
}
