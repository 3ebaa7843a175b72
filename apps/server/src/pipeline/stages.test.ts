import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { IngestContext } from './ingest-pipeline.js';
import { createReceiveStage } from './stages.js';

function contextOf(source: IngestContext['source']): IngestContext {
  return {
    id: 'id',
    receivedAtMs: 0,
    envelope: { from: '', to: [], mailParameters: {} },
    session: null,
    source,
    raw: null,
    isStored: false,
    summary: null,
  };
}

describe('receive stage', () => {
  it('joins the chunks of a Node stream and of any iterable', async () => {
    for (const source of [
      Readable.from([Buffer.from('ab'), Buffer.from('cd')]),
      [Uint8Array.of(97, 98), Uint8Array.of(99)],
    ]) {
      const context = contextOf(source);
      await createReceiveStage().run(context);
      expect(Buffer.from(context.raw!).toString()).toBe(source instanceof Readable ? 'abcd' : 'abc');
    }
  });

  it('fails with the error of an aborted stream, and does not hang on one destroyed without an error', async () => {
    const aborted = new Readable({ read() {} });
    const receiving = createReceiveStage().run(contextOf(aborted));
    aborted.destroy(new Error('client went away'));
    await expect(receiving).rejects.toThrow('client went away');

    const closed = new Readable({ read() {} });
    const waiting = createReceiveStage().run(contextOf(closed));
    closed.push('partial');
    closed.destroy();
    await expect(waiting).rejects.toThrow('closed before its end');

    const gone = new Readable({ read() {} });
    gone.destroy();
    await expect(createReceiveStage().run(contextOf(gone))).rejects.toThrow('closed before its end');
  });
});
