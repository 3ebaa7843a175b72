import { ChannelListener } from './channel-listener.js';

/** The channel new and newly due deliveries are announced on (NOTIFY smtp_queue). */
export const queueChannel = 'smtp_queue';

export interface QueueNotificationsOptions {
  readonly url: string;
  /** The connection failed; it is opened again after `reconnectMs`. */
  readonly onError: (error: Error) => void;
  readonly reconnectMs?: number;
}

/**
 * LISTEN smtp_queue (a ChannelListener): every node's scheduler sleeps until its next due time and
 * is woken here when another node queues mail, gives a delivery back or frees a destination slot.
 * Listeners are told after a reconnect too, since a notification may have been missed meanwhile.
 */
export class QueueNotifications {
  readonly #listeners = new Set<() => void>();
  readonly #channel: ChannelListener;

  constructor(options: QueueNotificationsOptions) {
    this.#channel = new ChannelListener({
      url: options.url,
      channel: queueChannel,
      onNotification: () => this.#notify(),
      onReconnected: () => this.#notify(),
      onError: options.onError,
      ...(options.reconnectMs !== undefined ? { reconnectMs: options.reconnectMs } : {}),
    });
  }

  /** Resolves once listening; rejects when the first connection fails. */
  start(): Promise<void> {
    return this.#channel.start();
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  close(): Promise<void> {
    return this.#channel.close();
  }

  #notify(): void {
    for (const listener of this.#listeners) listener();
  }
}
