import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { EventReplay, IdentifiedEvent } from './event-replay.js';

/**
 * A server-sent event stream of a bus's events: each named by its `type`, with an `id`, its data
 * the event as JSON. `ready` comes first (so a client knows when it is subscribed); its data says
 * whether the stream `resumed`: a client that reconnects with `Last-Event-ID` (EventSource does)
 * then gets the events it missed right after `ready`, in order, and need not refresh. Otherwise
 * (a first connection, a restart of the app, a gap longer than what is kept) `resumed` is false.
 * A keep-alive comment goes out now and then, since proxies drop idle streams.
 */
export function streamEvents<TEvent extends { readonly type: string }>(
  context: Context,
  events: EventReplay<TEvent>,
  keepAliveMs: number,
): Response {
  const lastEventId = context.req.header('Last-Event-ID');
  return streamSSE(context, async (stream) => {
    const write = (entry: IdentifiedEvent<TEvent>) => {
      void stream
        .writeSSE({ id: entry.id, event: entry.event.type, data: JSON.stringify(entry.event) })
        .catch(() => undefined);
    };
    // Live events wait until `ready` and the missed ones are out, so the order holds.
    let held: IdentifiedEvent<TEvent>[] | null = [];
    const { missed, stop } = events.follow(lastEventId, (entry) => {
      if (held === null) write(entry);
      else held.push(entry);
    });
    stream.onAbort(stop);
    await stream.writeSSE({ event: 'ready', data: JSON.stringify({ resumed: missed !== null }) });
    for (const entry of [...(missed ?? []), ...held]) write(entry);
    held = null;
    while (!stream.aborted && !stream.closed) {
      await stream.sleep(keepAliveMs);
      if (!stream.aborted) await stream.write(': keep-alive\n\n').catch(() => undefined);
    }
    stop();
  });
}
