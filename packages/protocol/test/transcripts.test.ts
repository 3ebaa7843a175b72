import { readdirSync, readFileSync } from 'node:fs';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import type { ServerEvent } from '../src/server/server-events.js';
import { parseTranscript, replayServer, type ServerReplay } from '../src/testing/index.js';

// Server half of the transcript tests (house guide §2.6): every fixture replayed whole (output checked at
// every S block), byte by byte, and at fast-check split points; the output must be identical.

const directory = new URL('./transcripts/', import.meta.url);
const files = readdirSync(directory)
  .filter((name) => name.endsWith('.smtp'))
  .sort();

/** Events without message-chunk boundaries, which depend on how the input was split. */
function summarize(replay: ServerReplay): unknown[] {
  return replay.events
    .filter((event: ServerEvent) => event.type !== 'message-chunk')
    .map((event) =>
      JSON.parse(JSON.stringify(event, (_key, value) => (value instanceof Map ? [...value] : value))),
    );
}

it('finds the fixtures', () => {
  expect(files.length).toBeGreaterThanOrEqual(30);
});

describe.each(files)('%s', (file) => {
  const transcript = parseTranscript(readFileSync(new URL(file, directory), 'utf8'));
  const whole = replayServer(transcript);

  it('replays whole, S blocks in place', () => {
    expect(whole.actual).toBe(whole.expected);
  });

  it('replays byte by byte', () => {
    const replay = replayServer(transcript, { chunkSizes: [1] });
    expect(replay.actual).toBe(replay.expected);
    expect(summarize(replay)).toEqual(summarize(whole));
    expect(replay.messages).toEqual(whole.messages);
  });

  test.prop([fc.array(fc.integer({ min: 1, max: 96 }), { minLength: 1, maxLength: 16 })])(
    'replays at any split',
    (chunkSizes) => {
      const replay = replayServer(transcript, { chunkSizes });
      expect(replay.actual).toBe(replay.expected);
      expect(summarize(replay)).toEqual(summarize(whole));
      expect(replay.messages).toEqual(whole.messages);
    },
  );
});
