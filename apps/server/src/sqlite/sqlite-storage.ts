import { SqliteDatabase, type SqliteDatabaseOptions } from './sqlite-database.js';
import { SqliteDeliveryQueue } from './sqlite-delivery-queue.js';
import { SqliteInboundLog } from './sqlite-inbound-log.js';
import { SqliteMailboxIndex } from './sqlite-mailbox-index.js';
import { SqliteMessageRepository } from './sqlite-message-repository.js';
import { SqliteSuppressionList } from './sqlite-suppression-list.js';
import { SqliteWebhookOutbox } from './sqlite-webhook-outbox.js';

export interface SqliteStorageOptions extends SqliteDatabaseOptions {
  /** Count matches of a search only up to this many (SqliteMailboxIndex). */
  readonly searchTotalCap?: number;
}

/**
 * The spool, the capture index, the delivery queue and the suppression list over one SQLite database: what the
 * composition root opens.
 */
export class SqliteStorage {
  readonly spool: SqliteMessageRepository;
  readonly mailbox: SqliteMailboxIndex;
  readonly queue: SqliteDeliveryQueue;
  readonly suppressions: SqliteSuppressionList;
  /** What the MX received (inbound/inbound-log.ts). */
  readonly inbound: SqliteInboundLog;
  /** Webhook events not yet taken by their receiver (webhooks/webhook-outbox.ts). */
  readonly webhookOutbox: SqliteWebhookOutbox;
  readonly #database: SqliteDatabase;

  constructor(options: SqliteStorageOptions) {
    this.#database = new SqliteDatabase(options);
    this.spool = new SqliteMessageRepository(this.#database);
    this.queue = new SqliteDeliveryQueue(this.#database);
    this.suppressions = new SqliteSuppressionList(this.#database);
    this.inbound = new SqliteInboundLog(this.#database);
    this.webhookOutbox = new SqliteWebhookOutbox(this.#database);
    this.mailbox = new SqliteMailboxIndex(this.#database, {
      parse: options.parse,
      ...(options.searchTotalCap === undefined ? {} : { searchTotalCap: options.searchTotalCap }),
    });
  }

  /** Commits pending writes, stops the writer thread, closes the connection. */
  close(): Promise<void> {
    return this.#database.close();
  }
}
