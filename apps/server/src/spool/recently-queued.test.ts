import { describe, expect, it } from 'vitest';
import type { MessageRepository, ReceivedMessage } from './message-repository.js';
import { RecentlyQueued } from './recently-queued.js';

const message = (id: string, bytes: number): ReceivedMessage => ({
  id,
  receivedAtMs: 0,
  envelope: { from: 'a@b.test', to: ['c@d.test'], mailParameters: {}, rcptParameters: [{}] },
  session: null,
  raw: new Uint8Array(bytes),
});

/** A spool that records which ids were read from it. */
function recordingSpool(): MessageRepository & { readonly reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    receive: () => Promise.reject(new Error('not used')),
    getReceived: async (id) => {
      reads.push(id);
      return message(id, 1);
    },
    getRaw: async () => null,
  };
}

describe('RecentlyQueued', () => {
  it('serves a message once from memory, then from the spool', async () => {
    const recent = new RecentlyQueued();
    const spool = recordingSpool();
    const delivering = recent.over(spool);
    const queued = message('m1', 10);
    recent.remember(queued);
    expect(await delivering.getReceived('m1')).toBe(queued);
    expect(spool.reads).toEqual([]);
    expect((await delivering.getReceived('m1'))?.raw.byteLength).toBe(1);
    expect(spool.reads).toEqual(['m1']);
  });

  it('keeps at most maxBytes, dropping the oldest first, and never a message larger than that', () => {
    const recent = new RecentlyQueued({ maxBytes: 100 });
    recent.remember(message('old', 60));
    recent.remember(message('new', 30));
    recent.remember(message('newest', 30));
    expect(recent.take('old')).toBeUndefined();
    expect(recent.take('new')?.id).toBe('new');
    expect(recent.take('newest')?.id).toBe('newest');
    recent.remember(message('huge', 101));
    expect(recent.take('huge')).toBeUndefined();
  });
});
