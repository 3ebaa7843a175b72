import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readMessageSource } from './read-message-source.js';

describe('readMessageSource', () => {
  it('joins the chunks of a Node stream and of any iterable, and takes bytes as they are', async () => {
    for (const source of [
      Readable.from([Buffer.from('ab'), Buffer.from('cd')]),
      [Uint8Array.of(97, 98), Uint8Array.of(99)],
      (async function* () {
        yield Uint8Array.of(120);
        yield Uint8Array.of(121);
      })(),
    ]) {
      const raw = await readMessageSource(source);
      expect(Buffer.from(raw).toString()).toBe(
        source instanceof Readable ? 'abcd' : Array.isArray(source) ? 'abc' : 'xy',
      );
    }
    const whole = Uint8Array.of(1, 2, 3);
    expect(await readMessageSource(whole)).toBe(whole);
  });

  it('fails with the error of an aborted stream, and does not hang on one destroyed without an error', async () => {
    const aborted = new Readable({ read() {} });
    const receiving = readMessageSource(aborted);
    aborted.destroy(new Error('client went away'));
    await expect(receiving).rejects.toThrow('client went away');

    const closed = new Readable({ read() {} });
    const waiting = readMessageSource(closed);
    closed.push('partial');
    closed.destroy();
    await expect(waiting).rejects.toThrow('closed before its end');

    const gone = new Readable({ read() {} });
    gone.destroy();
    await expect(readMessageSource(gone)).rejects.toThrow('closed before its end');
  });
});
