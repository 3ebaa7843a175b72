import type { MailboxEvent } from '../http/schemas/index.js';
import { useEventStream } from './use-event-stream.js';

export type MailEvent = MailboxEvent;

/** Every event type once: the compiler fails when the wire contract gains one that is not listed. */
const isEventType: Readonly<Record<MailEvent['type'], true>> = {
  'message-stored': true,
  'message-updated': true,
  'messages-read': true,
  'message-tagged': true,
  'tags-changed': true,
  'message-deleted': true,
  'messages-cleared': true,
};
const eventTypes = Object.keys(isEventType);

/** Subscribes to /api/v1/events (SSE). EventSource reconnects by itself; we refresh after a reconnect. */
export function useMailEvents(
  onEvent: (event: MailEvent) => void,
  onConnectionChange: (isConnected: boolean) => void,
  onReconnect: () => void,
): void {
  useEventStream('/api/v1/events', eventTypes, onEvent, onConnectionChange, onReconnect);
}
