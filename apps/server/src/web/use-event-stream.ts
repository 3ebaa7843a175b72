import { useEffect, useRef } from 'preact/hooks';

/**
 * Subscribes to a server-sent event stream of the API. EventSource reconnects by itself, sending the
 * last event id it saw; the server sends `ready` on every (re)connection, then the events missed
 * meanwhile when it still has them all (`resumed`). So we report the connection state and call
 * `onReconnect` only after a reconnect that could not resume (the caller refreshes).
 */
export function useEventStream<Event>(
  url: string,
  eventTypes: readonly string[],
  onEvent: (event: Event) => void,
  onConnectionChange: (isConnected: boolean) => void,
  onReconnect: () => void,
): void {
  const handlers = useRef({ onEvent, onConnectionChange, onReconnect });
  handlers.current = { onEvent, onConnectionChange, onReconnect };
  useEffect(() => {
    const source = new EventSource(url);
    let hasBeenConnected = false;
    source.addEventListener('ready', (event) => {
      handlers.current.onConnectionChange(true);
      const { resumed } = JSON.parse((event as MessageEvent<string>).data) as { resumed?: boolean };
      if (hasBeenConnected && resumed !== true) handlers.current.onReconnect();
      hasBeenConnected = true;
    });
    source.addEventListener('error', () => handlers.current.onConnectionChange(false));
    for (const type of eventTypes) {
      source.addEventListener(type, (event) => {
        handlers.current.onEvent(JSON.parse((event as MessageEvent<string>).data) as Event);
      });
    }
    return () => source.close();
  }, [url, eventTypes]);
}
