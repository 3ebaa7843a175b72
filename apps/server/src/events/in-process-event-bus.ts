import type { EventBus } from './event-bus.js';

/** A tiny synchronous fan-out. A listener that throws is dropped from the call, never the publisher. */
export class InProcessEventBus<TEvent> implements EventBus<TEvent> {
  readonly #listeners = new Set<(event: TEvent) => void>();

  subscribe(listener: (event: TEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  publish(event: TEvent): void {
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
