import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';

/**
 * A server-sent event stream of a bus's events: each named by its `type`, its data the event as
 * JSON; `ready` first (so a client knows when it is subscribed, and can refresh after a reconnect),
 * then a keep-alive comment now and then, since proxies drop idle streams.
 */
export function streamEvents<TEvent extends { readonly type: string }>(
  context: Context,
  subscribe: (listener: (event: TEvent) => void) => () => void,
  keepAliveMs: number,
): Response {
  return streamSSE(context, async (stream) => {
    const unsubscribe = subscribe((event) => {
      void stream.writeSSE({ event: event.type, data: JSON.stringify(event) }).catch(() => undefined);
    });
    stream.onAbort(unsubscribe);
    await stream.writeSSE({ event: 'ready', data: '{}' });
    while (!stream.aborted && !stream.closed) {
      await stream.sleep(keepAliveMs);
      if (!stream.aborted) await stream.write(': keep-alive\n\n').catch(() => undefined);
    }
    unsubscribe();
  });
}
