import { useEffect, useRef } from 'preact/hooks';
import type { QueueEvent } from './operations-api.js';

/** Every event type once: the compiler fails when the wire contract gains one that is not listed. */
const isEventType: Readonly<Record<QueueEvent['type'], true>> = {
  queued: true,
  'attempt-started': true,
  delivered: true,
  deferred: true,
  failed: true,
  held: true,
  released: true,
  retried: true,
  bounced: true,
  deleted: true,
  'report-queued': true,
};
const eventTypes = Object.keys(isEventType);

/** Subscribes to /api/v1/queue/events (SSE), as useMailEvents does to the mailbox's. */
export function useQueueEvents(
  onEvent: (event: QueueEvent) => void,
  onConnectionChange: (isConnected: boolean) => void,
  onReconnect: () => void,
): void {
  const handlers = useRef({ onEvent, onConnectionChange, onReconnect });
  handlers.current = { onEvent, onConnectionChange, onReconnect };
  useEffect(() => {
    const source = new EventSource('/api/v1/queue/events');
    let hasBeenConnected = false;
    source.addEventListener('ready', () => {
      handlers.current.onConnectionChange(true);
      if (hasBeenConnected) handlers.current.onReconnect();
      hasBeenConnected = true;
    });
    source.addEventListener('error', () => handlers.current.onConnectionChange(false));
    for (const type of eventTypes) {
      source.addEventListener(type, (event) => {
        handlers.current.onEvent(JSON.parse((event as MessageEvent<string>).data) as QueueEvent);
      });
    }
    return () => source.close();
  }, []);
}
