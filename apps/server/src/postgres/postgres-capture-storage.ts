import type pg from 'pg';
import type { MailboxEvent } from '../capture/mailbox-event.js';
import type { EventBus } from '../events/event-bus.js';
import type { MessageParser } from '../mime/message-parser.js';
import { PostgresCaptureSpool } from './postgres-capture-spool.js';
import { PostgresMailboxIndex } from './postgres-mailbox-index.js';
import { PostgresMessageRepository } from './postgres-message-repository.js';
import { createPostgresPool } from './postgres-pool.js';
import { migratePostgres } from './postgres-schema.js';
import { PostgresWebhookOutbox, type PostgresWebhookOutboxOptions } from './postgres-webhook-outbox.js';
import { SharedMailboxEvents } from './shared-mailbox-events.js';

export interface PostgresCaptureStorageOptions {
  /** postgres://user:password@host:port/database */
  readonly url: string;
  /** Parses messages for the index and for reading (the app's parse worker pool). */
  readonly parse: MessageParser;
  /** This node's mailbox events: announced to the other nodes. */
  readonly localEvents: EventBus<MailboxEvent>;
  readonly maxConnections?: number;
  readonly searchTotalCap?: number;
  /** How long after losing its LISTEN connection a node opens it again. Default 1 s. */
  readonly reconnectMs?: number;
  /** A connection failed (logged; the pool and the LISTEN connection reconnect). */
  readonly onError: (error: Error, context: string) => void;
}

/**
 * Capture mode on PostgreSQL, shared by several nodes: the spool (each message with its inbox row),
 * the mailbox index with full-text search, and the mailbox events of every node (NOTIFY/LISTEN), so
 * any node's web UI and API show every node's messages as they arrive. Opening migrates the schema
 * (safe when nodes start at once).
 */
export class PostgresCaptureStorage {
  readonly spool: PostgresCaptureSpool;
  readonly mailbox: PostgresMailboxIndex;
  /** Every node's mailbox events; publishing here publishes on this node's bus too. */
  readonly events: SharedMailboxEvents;
  readonly #pool: pg.Pool;
  /** False when the pool is another storage's (onPool): closing leaves it open. */
  readonly #ownsPool: boolean;
  #isClosed = false;

  private constructor(pool: pg.Pool, ownsPool: boolean, options: PostgresCaptureStorageOptions) {
    this.#pool = pool;
    this.#ownsPool = ownsPool;
    this.spool = new PostgresCaptureSpool(new PostgresMessageRepository(pool));
    this.mailbox = new PostgresMailboxIndex({
      pool,
      parse: options.parse,
      ...(options.searchTotalCap === undefined ? {} : { searchTotalCap: options.searchTotalCap }),
    });
    this.events = new SharedMailboxEvents({
      url: options.url,
      pool,
      local: options.localEvents,
      mailbox: this.mailbox,
      onError: options.onError,
      ...(options.reconnectMs === undefined ? {} : { reconnectMs: options.reconnectMs }),
    });
  }

  static async open(options: PostgresCaptureStorageOptions): Promise<PostgresCaptureStorage> {
    const pool = createPostgresPool({
      url: options.url,
      ...(options.maxConnections === undefined ? {} : { maxConnections: options.maxConnections }),
      onError: (error) => options.onError(error, 'pool'),
    });
    try {
      await migratePostgres(pool);
      return await PostgresCaptureStorage.#start(new PostgresCaptureStorage(pool, true, options));
    } catch (error) {
      await pool.end();
      throw error;
    }
  }

  /**
   * The inbox on a pool another storage opened and migrated (the MTA's PostgresStorage), so a node
   * keeps one pool per database; closing this leaves the pool open.
   */
  static onPool(
    pool: pg.Pool,
    options: Omit<PostgresCaptureStorageOptions, 'maxConnections'>,
  ): Promise<PostgresCaptureStorage> {
    return PostgresCaptureStorage.#start(new PostgresCaptureStorage(pool, false, options));
  }

  static async #start(storage: PostgresCaptureStorage): Promise<PostgresCaptureStorage> {
    try {
      await storage.events.start();
      return storage;
    } catch (error) {
      await storage.events.close();
      throw error;
    }
  }

  /** The webhook outbox shared by the nodes, for this node's run (PostgresWebhookOutbox). */
  webhookOutbox(options: Omit<PostgresWebhookOutboxOptions, 'pool'>): PostgresWebhookOutbox {
    return new PostgresWebhookOutbox({ pool: this.#pool, ...options });
  }

  /** Sends the announcements on their way, stops listening, closes the pool if it is its own. */
  async close(): Promise<void> {
    if (this.#isClosed) return;
    this.#isClosed = true;
    await this.events.close();
    if (this.#ownsPool) await this.#pool.end();
  }
}
