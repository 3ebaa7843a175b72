import type pg from 'pg';
import { PostgresCaptureStorage, type PostgresCaptureStorageOptions } from './postgres-capture-storage.js';
import { PostgresDailyMessageCounter } from './postgres-daily-message-counter.js';
import { PostgresDeliveryQueue } from './postgres-delivery-queue.js';
import { PostgresGreylistStore } from './postgres-greylist-store.js';
import { PostgresInboundLog } from './postgres-inbound-log.js';
import { PostgresMessageRepository } from './postgres-message-repository.js';
import { createPostgresPool } from './postgres-pool.js';
import { migratePostgres } from './postgres-schema.js';
import { PostgresSuppressionList } from './postgres-suppression-list.js';
import { PostgresWebhookOutbox, type PostgresWebhookOutboxOptions } from './postgres-webhook-outbox.js';
import { QueueNotifications } from './queue-notifications.js';

export interface PostgresStorageOptions {
  /** postgres://user:password@host:port/database */
  readonly url: string;
  /** Live leases per destination over all nodes (PostgresDeliveryQueueOptions.destinationLimit). */
  readonly destinationLimit: number;
  /** Deliveries per minute to one destination over all nodes; unset for no rate limit. */
  readonly destinationRate?: number;
  readonly maxConnections?: number;
  /** A connection failed (logged; the pool and the LISTEN connection reconnect). */
  readonly onError: (error: Error, context: string) => void;
}

/**
 * The MTA's store on PostgreSQL, shared by several nodes: the spool (messages and their
 * deliveries) and the delivery queue, with the LISTEN connection that wakes this node's scheduler
 * when another node queues mail, the suppression list, the daily message counts and the mx
 * listeners' greylisting, so every node decides alike, and the log of what the mx listeners received. Opening migrates the schema (safe when nodes start at once).
 */
export class PostgresStorage {
  readonly spool: PostgresMessageRepository;
  readonly queue: PostgresDeliveryQueue;
  readonly notifications: QueueNotifications;
  readonly suppressions: PostgresSuppressionList;
  readonly dailyMessages: PostgresDailyMessageCounter;
  readonly greylist: PostgresGreylistStore;
  readonly inbound: PostgresInboundLog;
  readonly #pool: pg.Pool;
  /** The inbox opened on this pool (openInbox), closed before the pool. */
  #inbox: PostgresCaptureStorage | null = null;

  private constructor(pool: pg.Pool, notifications: QueueNotifications, options: PostgresStorageOptions) {
    this.#pool = pool;
    this.notifications = notifications;
    this.spool = new PostgresMessageRepository(pool);
    this.queue = new PostgresDeliveryQueue({
      pool,
      destinationLimit: options.destinationLimit,
      destinationIntervalMs: options.destinationRate === undefined ? null : 60_000 / options.destinationRate,
    });
    this.suppressions = new PostgresSuppressionList(pool);
    this.dailyMessages = new PostgresDailyMessageCounter(pool);
    this.greylist = new PostgresGreylistStore(pool);
    this.inbound = new PostgresInboundLog(pool);
  }

  static async open(options: PostgresStorageOptions): Promise<PostgresStorage> {
    const pool = createPostgresPool({
      url: options.url,
      ...(options.maxConnections === undefined ? {} : { maxConnections: options.maxConnections }),
      onError: (error) => options.onError(error, 'pool'),
    });
    const notifications = new QueueNotifications({
      url: options.url,
      onError: (error) => options.onError(error, 'listen'),
    });
    try {
      await migratePostgres(pool);
      await notifications.start();
    } catch (error) {
      await notifications.close();
      await pool.end();
      throw error;
    }
    return new PostgresStorage(pool, notifications, options);
  }

  /** The webhook outbox shared by the nodes, for this node's run (PostgresWebhookOutbox). */
  webhookOutbox(options: Omit<PostgresWebhookOutboxOptions, 'pool'>): PostgresWebhookOutbox {
    return new PostgresWebhookOutbox({ pool: this.#pool, ...options });
  }

  /**
   * The web inbox of the mail the nodes relay, with its events shared by the nodes, on this
   * storage's pool (PostgresCaptureStorage.onPool); closed with this storage.
   */
  async openInbox(
    options: Omit<PostgresCaptureStorageOptions, 'maxConnections'>,
  ): Promise<PostgresCaptureStorage> {
    this.#inbox = await PostgresCaptureStorage.onPool(this.#pool, options);
    return this.#inbox;
  }

  async close(): Promise<void> {
    await this.#inbox?.close();
    await this.notifications.close();
    await this.#pool.end();
  }
}
