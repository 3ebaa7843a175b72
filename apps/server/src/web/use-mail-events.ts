import { useEffect, useRef } from 'preact/hooks';
import type { MailboxEvent } from '../http/schemas/index.js';

export type MailEvent = MailboxEvent;

/** Every event type once: the compiler fails when the wire contract gains one that is not listed. */
const isEventType: Readonly<Record<MailEvent['type'], true>> = {
  'message-stored': true,
  'message-updated': true,
  'messages-read': true,
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
  const handlers = useRef({ onEvent, onConnectionChange, onReconnect });
  handlers.current = { onEvent, onConnectionChange, onReconnect };
  useEffect(() => {
    const source = new EventSource('/api/v1/events');
    let hasBeenConnected = false;
    source.addEventListener('ready', () => {
      handlers.current.onConnectionChange(true);
      if (hasBeenConnected) handlers.current.onReconnect();
      hasBeenConnected = true;
    });
    source.addEventListener('error', () => handlers.current.onConnectionChange(false));
    for (const type of eventTypes) {
      source.addEventListener(type, (event) => {
        handlers.current.onEvent(JSON.parse((event as MessageEvent<string>).data) as MailEvent);
      });
    }
    return () => source.close();
  }, []);
}
