import type { QueueEvent } from './operations-api.js';
import { useEventStream } from './use-event-stream.js';

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
  purged: true,
};
const eventTypes = Object.keys(isEventType);

/** Subscribes to /api/v1/queue/events (SSE), as useMailEvents does to the mailbox's. */
export function useQueueEvents(
  onEvent: (event: QueueEvent) => void,
  onConnectionChange: (isConnected: boolean) => void,
  onReconnect: () => void,
): void {
  useEventStream('/api/v1/queue/events', eventTypes, onEvent, onConnectionChange, onReconnect);
}
