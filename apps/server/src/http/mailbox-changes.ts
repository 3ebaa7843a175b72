import type { MailboxEvent } from '../capture/mailbox-event.js';
import type { EventBus } from '../events/event-bus.js';

/**
 * What a long poll (`GET /api/v1/messages?wait=`) waits on: messages stored since it subscribed.
 * It subscribes at once, so a message stored between a query and the next wait is not missed.
 * A closed connection (signal) ends the wait early.
 */
export class MailboxChanges {
  readonly #unsubscribe: () => void;
  readonly #signal: AbortSignal;
  /** Messages stored that no next() has consumed yet. */
  #unseen = 0;
  #wake: (() => void) | null = null;

  constructor(events: EventBus<MailboxEvent>, signal: AbortSignal) {
    this.#signal = signal;
    this.#unsubscribe = events.subscribe((event) => {
      if (event.type !== 'message-stored') return;
      this.#unseen += 1;
      this.#wake?.();
    });
  }

  /**
   * Resolves true once a message was stored since the last call (at once if one was), false when
   * `timeoutMs` passes first or the client went away.
   */
  next(timeoutMs: number): Promise<boolean> {
    if (this.#unseen > 0) {
      this.#unseen = 0;
      return Promise.resolve(true);
    }
    if (this.#signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const finish = (stored: boolean) => {
        clearTimeout(timer);
        this.#signal.removeEventListener('abort', onAbort);
        this.#wake = null;
        this.#unseen = 0;
        resolve(stored);
      };
      const onAbort = () => finish(false);
      const timer = setTimeout(() => finish(false), timeoutMs);
      this.#wake = () => finish(true);
      this.#signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  close(): void {
    this.#wake = null;
    this.#unsubscribe();
  }
}
