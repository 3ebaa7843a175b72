/** One server-sent event as it came over the wire. */
export interface ReceivedSseEvent {
  readonly event: string;
  readonly data: unknown;
  /** The `id:` field, when the event had one. */
  readonly id?: string;
}

/**
 * Reads a text/event-stream over a real socket: every event it has seen, and a wait for the next
 * one that matches (with a time limit, so a missing event fails the test instead of hanging it).
 */
export async function openSseStream(url: string, headers: Record<string, string> = {}) {
  const controller = new AbortController();
  const response = await fetch(url, { signal: controller.signal, headers });
  if (response.body === null) throw new Error('no body');
  const contentType = response.headers.get('content-type') ?? '';
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  const events: ReceivedSseEvent[] = [];
  let buffer = '';
  let readUpTo = 0;

  async function pump(): Promise<void> {
    const { value, done } = await reader.read();
    if (done) throw new Error('the event stream ended');
    buffer += decoder.decode(value, { stream: true });
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const lines = block.split('\n');
      const name = lines
        .find((line) => line.startsWith('event:'))
        ?.slice(6)
        .trim();
      const data = lines
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).trimStart())
        .join('\n');
      const id = lines
        .find((line) => line.startsWith('id:'))
        ?.slice(3)
        .trim();
      if (name !== undefined)
        events.push({ event: name, data: JSON.parse(data), ...(id === undefined ? {} : { id }) });
      end = buffer.indexOf('\n\n');
    }
  }

  return {
    status: response.status,
    contentType,
    events,
    /** The next event (after those already taken by next()) that matches; earlier ones are skipped. */
    async next(matches: (event: ReceivedSseEvent) => boolean, timeoutMs = 30_000): Promise<ReceivedSseEvent> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const index = events.findIndex((event, position) => position >= readUpTo && matches(event));
        if (index >= 0) {
          readUpTo = index + 1;
          return events[index] as ReceivedSseEvent;
        }
        const left = deadline - Date.now();
        if (left <= 0)
          throw new Error(`no matching event; seen: ${events.map((event) => event.event).join(', ')}`);
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          pump(),
          new Promise((_resolve, reject) => {
            timer = setTimeout(
              () =>
                reject(
                  new Error(
                    `no matching event in ${timeoutMs} ms; seen: ${events.map((event) => event.event).join(', ')}`,
                  ),
                ),
              left,
            );
          }),
        ]).finally(() => clearTimeout(timer));
      }
    },
    close(): void {
      controller.abort();
    },
  };
}
