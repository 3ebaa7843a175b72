import { createClient } from '@smtp/client';
import { afterEach, describe, expect, it } from 'vitest';
import { InProcessEventBus } from '../src/events/in-process-event-bus.js';
import { EventReplay } from '../src/http/event-replay.js';
import { findBySubject, startTestApp } from './support/app-harness.js';
import { openSseStream } from './support/sse-reader.js';

interface TestEvent {
  readonly type: 'tick';
  readonly number: number;
}

describe('EventReplay', () => {
  function replayOf(capacity: number) {
    const bus = new InProcessEventBus<TestEvent>();
    const replay = new EventReplay<TestEvent>((listener) => bus.subscribe(listener), capacity);
    const seen: string[] = [];
    replay.follow(undefined, (entry) => seen.push(entry.id));
    const publish = (count: number) => {
      for (let number = 1; number <= count; number++) bus.publish({ type: 'tick', number });
    };
    return { replay, seen, publish };
  }

  it('gives what a client missed after its last id, in order, and nothing it already had', () => {
    const { replay, seen, publish } = replayOf(10);
    publish(3);
    const numbers = (id: string | undefined) =>
      replay.follow(id, () => undefined).missed?.map((entry) => entry.event.number) ?? null;
    expect(numbers(seen[0])).toEqual([2, 3]);
    expect(numbers(seen[2])).toEqual([]);
    expect(numbers(undefined)).toBeNull();
  });

  it('gives nothing it cannot give whole: another run, an unknown id, a gap longer than it keeps', () => {
    const { replay, seen, publish } = replayOf(2);
    publish(5);
    const run = seen[0]?.split('-')[0];
    const missed = (id: string) => replay.follow(id, () => undefined).missed;
    expect(missed(seen[3] as string)?.map((entry) => entry.event.number)).toEqual([5]);
    expect(missed(seen[2] as string)?.map((entry) => entry.event.number)).toEqual([4, 5]);
    expect(missed(seen[1] as string)).toBeNull(); // event 3 is no longer kept
    expect(missed(`${run}-99`)).toBeNull();
    expect(missed('00000000-1')).toBeNull();
    expect(missed('not an id')).toBeNull();
  });
});

describe('GET /api/v1/events with Last-Event-ID', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function sendMail(port: number, subject: string): Promise<void> {
    const client = createClient({ host: '127.0.0.1', port, starttls: 'never', pool: false });
    try {
      await client.send({
        from: 'a@sender.test',
        to: ['b@example.org'],
        message: `Subject: ${subject}\r\n\r\nx\r\n`,
      });
    } finally {
      await client.close();
    }
  }

  it('replays what a reconnecting client missed right after ready; a new client is told to refresh', async () => {
    const harness = await startTestApp();
    cleanups.push(harness.stop);
    const url = `${harness.baseUrl}/api/v1/events`;
    const isStored = (subject: string) => (event: { event: string; data: unknown }) =>
      event.event === 'message-stored' &&
      (event.data as { message: { subject: string } }).message.subject === subject;

    const first = await openSseStream(url);
    cleanups.push(() => first.close());
    expect((await first.next((event) => event.event === 'ready')).data).toEqual({ resumed: false });
    await sendMail(harness.smtpPort, 'Seen');
    const seen = await first.next(isStored('Seen'));
    expect(seen.id).toMatch(/^[0-9a-f]+-\d+$/);
    first.close();

    await sendMail(harness.smtpPort, 'Missed');
    await findBySubject(harness.baseUrl, 'Missed'); // stored and announced while nobody listened

    const again = await openSseStream(url, { 'Last-Event-ID': seen.id as string });
    cleanups.push(() => again.close());
    expect((await again.next((event) => event.event === 'ready')).data).toEqual({ resumed: true });
    await again.next(isStored('Missed'), 5000);
    expect(
      again.events.filter((event) => event.event === 'message-stored').map((event) => event.id),
    ).not.toContain(seen.id);

    const fresh = await openSseStream(url, { 'Last-Event-ID': 'from-another-run-1' });
    cleanups.push(() => fresh.close());
    expect((await fresh.next((event) => event.event === 'ready')).data).toEqual({ resumed: false });
    await sendMail(harness.smtpPort, 'Live');
    await fresh.next(isStored('Live'));
    expect(fresh.events.some(isStored('Missed'))).toBe(false);
  });
});
