import pg from 'pg';

export interface ChannelListenerOptions {
  readonly url: string;
  /** The NOTIFY channel: an SQL identifier (letters, digits, underscores). */
  readonly channel: string;
  readonly onNotification: (payload: string) => void;
  /**
   * The connection was lost at `lostAtMs` and is listening again: notifications sent meanwhile
   * were missed.
   */
  readonly onReconnected: (lostAtMs: number) => void;
  /** The connection failed; it is opened again after `reconnectMs`. */
  readonly onError: (error: Error) => void;
  readonly reconnectMs?: number;
}

/**
 * LISTEN on one channel, on a connection of its own (a pooled one would lose it on release),
 * reopened whenever it drops (a restarted server, a killed backend) until close().
 */
export class ChannelListener {
  readonly #options: ChannelListenerOptions;
  #client: pg.Client | null = null;
  #reconnectTimer: NodeJS.Timeout | null = null;
  #lostAtMs: number | null = null;
  #isClosed = false;

  constructor(options: ChannelListenerOptions) {
    if (!/^[a-z_][a-z0-9_]*$/.test(options.channel))
      throw new Error(`Not a channel name: ${JSON.stringify(options.channel)}`);
    this.#options = options;
  }

  /** Resolves once listening; rejects when the first connection fails. */
  start(): Promise<void> {
    return this.#connect();
  }

  get isListening(): boolean {
    return this.#client !== null;
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
      application_name: `smtp-app listen ${this.#options.channel}`,
    });
    client.on('notification', (notification) => {
      if (notification.channel === this.#options.channel)
        this.#options.onNotification(notification.payload ?? '');
    });
    client.on('error', (error) => this.#lost(client, error));
    client.on('end', () =>
      this.#lost(client, new Error(`the LISTEN ${this.#options.channel} connection ended`)),
    );
    try {
      await client.connect();
      await client.query(`LISTEN ${this.#options.channel}`);
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
    this.#lostAtMs = Date.now();
    client.end().catch(() => undefined);
    this.#options.onError(error);
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.#isClosed || this.#reconnectTimer !== null) return;
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = null;
      this.#connect().then(
        () => {
          const lostAtMs = this.#lostAtMs ?? Date.now();
          this.#lostAtMs = null;
          if (!this.#isClosed) this.#options.onReconnected(lostAtMs);
        },
        (error: Error) => {
          this.#options.onError(error);
          this.#scheduleReconnect();
        },
      );
    }, this.#options.reconnectMs ?? 1000);
  }
}
