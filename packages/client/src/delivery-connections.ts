import type { Connection } from './connection.js';

export interface DeliveryConnectionsOptions {
  /** A kept connection idle this long is closed (QUIT). Default 5000 ms. */
  readonly idleTimeoutMs?: number;
  /** Transactions on one connection before it is closed instead of kept. Default 100. */
  readonly maxMessagesPerConnection?: number;
  /** Idle connections kept per MX host. Default 4. */
  readonly maxIdlePerHost?: number;
}

/** A connection between deliveries, with where its transcript lines go for the delivery using it. */
export interface KeptConnection {
  readonly connection: Connection;
  /** Transactions finished on it. */
  messages: number;
  /** The current delivery's transcript callback: a kept connection serves another delivery next. */
  onTranscriptLine: ((line: string) => void) | null;
}

interface IdleEntry {
  readonly kept: KeptConnection;
  readonly timer: NodeJS.Timeout;
}

/**
 * Connection reuse for `deliver()` (RFC 5321 §4.1.4 lets a client send several transactions in one
 * session): after a transaction, the connection to an MX host is kept, idle, for the next delivery to
 * that host. Only a transaction that ended with its final reply is kept, and that reply already reset
 * the server's state (RFC 5321 §4.1.1.4), so the next one starts with MAIL, not RSET: a round trip
 * saved per message. A kept connection the server dropped meanwhile fails before any of the message
 * is sent, and deliver() then opens a fresh one for the same delivery. Bounded: at most `maxIdlePerHost` idle per host, closed
 * after `idleTimeoutMs` idle or `maxMessagesPerConnection` transactions, and never kept after an
 * error, an abort or a 421 (the server closes). One instance per set of deliver() options (EHLO name,
 * port, TLS settings): the key is the MX host, the port and whether TLS was verified.
 */
export class DeliveryConnections {
  readonly #idleTimeoutMs: number;
  readonly #maxMessages: number;
  readonly #maxIdlePerHost: number;
  readonly #idle = new Map<string, IdleEntry[]>();
  #isClosed = false;

  constructor(options: DeliveryConnectionsOptions = {}) {
    this.#idleTimeoutMs = options.idleTimeoutMs ?? 5000;
    this.#maxMessages = options.maxMessagesPerConnection ?? 100;
    this.#maxIdlePerHost = options.maxIdlePerHost ?? 4;
  }

  /** Idle connections kept now, over all hosts. */
  get idleCount(): number {
    let count = 0;
    for (const entries of this.#idle.values()) count += entries.length;
    return count;
  }

  /**
   * A kept connection to `key`, ready for a transaction, or null. Connections the server closed
   * meanwhile are dropped on the way.
   * @internal deliver() calls it.
   */
  take(key: string, onTranscriptLine: ((line: string) => void) | null): KeptConnection | null {
    for (;;) {
      const entries = this.#idle.get(key);
      const entry = entries?.pop();
      if (entry === undefined) return null;
      if (entries?.length === 0) this.#idle.delete(key);
      clearTimeout(entry.timer);
      if (entry.kept.connection.isClosed) continue;
      entry.kept.onTranscriptLine = onTranscriptLine;
      onTranscriptLine?.(`# reusing the connection (${entry.kept.messages} earlier transactions)`);
      return entry.kept;
    }
  }

  /**
   * Offers a connection whose transaction just ended well; it is kept if it is idle and within its
   * bounds, otherwise closed.
   * @internal deliver() calls it.
   */
  async keep(key: string, kept: KeptConnection): Promise<void> {
    kept.onTranscriptLine = null;
    const entries = this.#idle.get(key) ?? [];
    if (
      this.#isClosed ||
      kept.messages >= this.#maxMessages ||
      !kept.connection.isIdle ||
      entries.length >= this.#maxIdlePerHost
    ) {
      await kept.connection.quit();
      return;
    }
    const timer = setTimeout(() => {
      const current = this.#idle.get(key);
      const index = current?.findIndex((entry) => entry.kept === kept) ?? -1;
      if (current === undefined || index === -1) return;
      current.splice(index, 1);
      if (current.length === 0) this.#idle.delete(key);
      void kept.connection.quit();
    }, this.#idleTimeoutMs);
    timer.unref?.();
    entries.push({ kept, timer });
    this.#idle.set(key, entries);
  }

  /** QUITs every idle connection; connections offered later are closed, not kept. */
  async close(): Promise<void> {
    this.#isClosed = true;
    const entries = [...this.#idle.values()].flat();
    this.#idle.clear();
    await Promise.all(
      entries.map((entry) => {
        clearTimeout(entry.timer);
        return entry.kept.connection.quit();
      }),
    );
  }
}
