import { describe, expect, it } from 'vitest';
import { type Bodies, RecentBodies } from './recent-bodies.js';

function countingParse() {
  const calls: string[] = [];
  const parse = async (raw: Uint8Array): Promise<Bodies> => {
    const text = new TextDecoder().decode(raw);
    calls.push(text);
    if (text === 'broken') throw new Error('cannot parse');
    return { text, html: null, attachments: [] };
  };
  return { calls, parse };
}

const bytes = (text: string) => new TextEncoder().encode(text);

describe('RecentBodies', () => {
  it('parses a message once for repeated and concurrent asks', async () => {
    const { calls, parse } = countingParse();
    const recent = new RecentBodies();
    const [first, second] = await Promise.all([
      recent.get('a', bytes('A'), parse),
      recent.get('a', bytes('A'), parse),
    ]);
    expect(await recent.get('a', bytes('A'), parse)).toEqual({ text: 'A', html: null, attachments: [] });
    expect([first, second]).toEqual([
      { text: 'A', html: null, attachments: [] },
      { text: 'A', html: null, attachments: [] },
    ]);
    expect(calls).toEqual(['A']);
  });

  it('forgets the least recently viewed beyond its count and its size', async () => {
    const { calls, parse } = countingParse();
    const recent = new RecentBodies({ maxEntries: 2, maxRawBytes: 10 });
    await recent.get('a', bytes('A'), parse);
    await recent.get('b', bytes('B'), parse);
    await recent.get('a', bytes('A'), parse); // a is now the most recent
    await recent.get('c', bytes('C'), parse); // b goes
    await recent.get('a', bytes('A'), parse);
    await recent.get('b', bytes('B'), parse);
    expect(calls).toEqual(['A', 'B', 'C', 'B']);

    await recent.get('big', bytes('0123456789'), parse); // 10 bytes: everything else goes
    await recent.get('c', bytes('C'), parse);
    await recent.get('huge', bytes('0123456789A'), parse); // over the bound: never kept
    await recent.get('huge', bytes('0123456789A'), parse);
    expect(calls.slice(4)).toEqual(['0123456789', 'C', '0123456789A', '0123456789A']);
  });

  it('does not keep a failed parse', async () => {
    const { calls, parse } = countingParse();
    const recent = new RecentBodies();
    await expect(recent.get('x', bytes('broken'), parse)).rejects.toThrow('cannot parse');
    await expect(recent.get('x', bytes('broken'), parse)).rejects.toThrow('cannot parse');
    expect(calls).toEqual(['broken', 'broken']);
  });
});
