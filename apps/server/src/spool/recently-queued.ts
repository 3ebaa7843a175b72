import type { MessageRepository, ReceivedMessage } from './message-repository.js';

/**
 * Messages just committed to the queue, kept in memory until their first delivery reads them: the
 * scheduler claims a message within milliseconds of its 250, and reading the bytes back from the
 * spool it has just written costs a database read and a copy of every byte. Each entry is taken
 * once (later reads, other domains and retries go to the spool); bounded by bytes, oldest out first.
 */
export class RecentlyQueued {
  readonly #maxBytes: number;
  /** Oldest first (Map keeps insertion order). */
  readonly #messages = new Map<string, ReceivedMessage>();
  #bytes = 0;

  constructor(options: { readonly maxBytes?: number } = {}) {
    this.#maxBytes = options.maxBytes ?? 32 * 1024 * 1024;
  }

  /** Called once the message is durable, before the scheduler hears of it. */
  remember(message: ReceivedMessage): void {
    if (message.raw.byteLength > this.#maxBytes || this.#messages.has(message.id)) return;
    this.#messages.set(message.id, message);
    this.#bytes += message.raw.byteLength;
    for (const [id, oldest] of this.#messages) {
      if (this.#bytes <= this.#maxBytes) break;
      this.#forget(id, oldest);
    }
  }

  take(id: string): ReceivedMessage | undefined {
    const message = this.#messages.get(id);
    if (message !== undefined) this.#forget(id, message);
    return message;
  }

  /** The spool as the delivery side reads it: a message still held here is not read back. */
  over(spool: MessageRepository): MessageRepository {
    return {
      receive: (source, receipt) => spool.receive(source, receipt),
      getReceived: async (id) => this.take(id) ?? spool.getReceived(id),
      getRaw: (id) => spool.getRaw(id),
    };
  }

  #forget(id: string, message: ReceivedMessage): void {
    this.#messages.delete(id);
    this.#bytes -= message.raw.byteLength;
  }
}
