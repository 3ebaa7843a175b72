import { useEffect, useRef } from 'preact/hooks';
import type { MailEvent } from '../events/mail-events.js';

export type { MailEvent };

const eventTypes = [
  'message-stored',
  'message-updated',
  'messages-read',
  'message-deleted',
  'messages-cleared',
];

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
