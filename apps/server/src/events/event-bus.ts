/**
 * One bus for what happened: the SSE stream, metrics and (later) webhooks and the MTA's attempt
 * records all read it. Publishers do not wait for listeners, and a listener cannot fail a publisher.
 */
export interface EventBus<TEvent> {
  publish(event: TEvent): void;
  /** Returns the call that unsubscribes. */
  subscribe(listener: (event: TEvent) => void): () => void;
}
