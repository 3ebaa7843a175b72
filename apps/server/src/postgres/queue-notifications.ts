import pg from 'pg';

/** The channel new and newly due deliveries are announced on (NOTIFY smtp_queue). */
export const queueChannel = 'smtp_queue';

export interface QueueNotificationsOptions {
  readonly url: string;
  /** The connection failed; it is opened again after `reconnectMs`. */
  readonly onError: (error: Error) => void;
  readonly reconnectMs?: number;
}

/**
 * LISTEN smtp_queue on a connection of its own (a pooled one would lose it on release): every
 * node's scheduler sleeps until its next due time and is woken here when another node queues mail,
 * gives a delivery back or frees a destination slot. A lost connection is reopened, and listeners
 * are told then too, since a notification may have been missed meanwhile.
 */
export class QueueNotifications {
  readonly #options: QueueNotificationsOptions;
  readonly #listeners = new Set<() => void>();
  #client: pg.Client | null = null;
  #reconnectTimer: NodeJS.Timeout | null = null;
  #isClosed = false;

  constructor(options: QueueNotificationsOptions) {
    this.#options = options;
  }

  /** Resolves once listening; rejects when the first connection fails. */
  async start(): Promise<void> {
    await this.#connect();
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.#isClosed = true;
    if (this.#reconnectTimer !== null) clearTimeout(this.#reconnectTimer);
    const client = this.#client;
    this.#client = null;
    await client?.end().catch(() => undefined);
  }

  async #connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.#options.url,
      application_name: 'smtp-app listen',
    });
    client.on('notification', () => this.#notify());
    client.on('error', (error) => this.#lost(client, error));
    client.on('end', () => this.#lost(client, new Error('the LISTEN connection ended')));
    try {
      await client.connect();
      await client.query(`LISTEN ${queueChannel}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    if (this.#isClosed) {
      await client.end();
      return;
    }
    this.#client = client;
  }

  #lost(client: pg.Client, error: Error): void {
    if (this.#isClosed || this.#client !== client) return;
    this.#client = null;
    client.end().catch(() => undefined);
    this.#options.onError(error);
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.#isClosed || this.#reconnectTimer !== null) return;
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = null;
      this.#connect().then(
        () => this.#notify(),
        (error: Error) => {
          this.#options.onError(error);
          this.#scheduleReconnect();
        },
      );
    }, this.#options.reconnectMs ?? 1000);
  }

  #notify(): void {
    for (const listener of this.#listeners) listener();
  }
}
