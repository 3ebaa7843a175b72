import { useEffect, useRef } from 'preact/hooks';

/**
 * Subscribes to a server-sent event stream of the API. EventSource reconnects by itself; the server
 * sends `ready` on every (re)connection, so we report the connection state and call `onReconnect`
 * after a reconnect (events may have been missed: the caller refreshes).
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
    source.addEventListener('ready', () => {
      handlers.current.onConnectionChange(true);
      if (hasBeenConnected) handlers.current.onReconnect();
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
