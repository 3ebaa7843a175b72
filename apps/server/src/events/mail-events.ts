import type { MessageSummary } from '../store/store.js';

/** What changes in the mailbox, as the web UI's event stream tells it. */
export type MailEvent =
  | { readonly type: 'message-stored'; readonly message: MessageSummary }
  | { readonly type: 'message-updated'; readonly id: string; readonly isRead: boolean }
  | { readonly type: 'messages-read'; readonly count: number }
  | { readonly type: 'message-deleted'; readonly ids: readonly string[] }
  | { readonly type: 'messages-cleared' };

export type MailEventListener = (event: MailEvent) => void;

/** A tiny synchronous fan-out. A listener that throws is dropped from the call, never the publisher. */
export class MailEvents {
  readonly #listeners = new Set<MailEventListener>();

  subscribe(listener: MailEventListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  publish(event: MailEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // A broken subscriber (a closed SSE stream) must not stop delivery to the others.
      }
    }
  }

  get listenerCount(): number {
    return this.#listeners.size;
  }
}
