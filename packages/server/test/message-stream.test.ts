import { describe, expect, it } from 'vitest';
import { MessageAbortedError, MessageStream } from '../src/message-stream.js';

describe('MessageStream backpressure', () => {
  it('asks to pause only when more than highWaterMark waits, not when one read fills it', () => {
    const stream = new MessageStream(64 * 1024);
    // One full socket read (64 KiB) reaches the highWaterMark: the consumer is not behind yet.
    expect(stream.write(new Uint8Array(64 * 1024))).toBe(true);
    // A second before the consumer read the first: behind, pause.
    expect(stream.write(new Uint8Array(1))).toBe(false);
    expect(stream.readableLength).toBe(64 * 1024 + 1);
    expect(stream.byteLength).toBe(64 * 1024 + 1);
  });

  it('calls onDemand once the consumer has read what waited', async () => {
    const stream = new MessageStream(16);
    expect(stream.write(new Uint8Array(40))).toBe(false);
    let demanded = 0;
    stream.onDemand = () => {
      demanded += 1;
    };
    const chunk = stream.read();
    expect(chunk?.length).toBe(40);
    await new Promise((resolve) => setImmediate(resolve));
    expect(demanded).toBe(1);
    expect(stream.onDemand).toBeNull();
  });
});

describe('MessageStream for await', () => {
  const bytes = (text: string) => new TextEncoder().encode(text);
  const text = (chunks: Uint8Array[]) => Buffer.concat(chunks).toString('latin1');

  it('yields the chunks in order as Buffers, ends after push(null), then emits end and close', async () => {
    const stream = new MessageStream(64 * 1024);
    const events: string[] = [];
    stream.on('end', () => events.push('end'));
    const closed = new Promise((resolve) => stream.once('close', resolve));
    stream.write(bytes('one,'));
    const chunks: Uint8Array[] = [];
    const consumed = (async () => {
      for await (const chunk of stream) {
        expect(Buffer.isBuffer(chunk)).toBe(true);
        chunks.push(chunk);
      }
    })();
    stream.write(bytes('two,'));
    await new Promise((resolve) => setImmediate(resolve));
    stream.write(bytes('three'));
    stream.push(null);
    await consumed;
    expect(text(chunks)).toBe('one,two,three');
    expect(stream.destroyed).toBe(true); // like Readable's own iterator at the end of the loop
    await closed;
    expect(events).toEqual(['end']);
  });

  it('hands the last chunk and the end over without waiting for a process.nextTick', async () => {
    const stream = new MessageStream(64 * 1024);
    const order: string[] = [];
    const consumed = (async () => {
      for await (const chunk of stream) order.push(`chunk ${chunk.length}`);
      order.push('done');
    })();
    stream.write(bytes('hello'));
    stream.push(null);
    process.nextTick(() => order.push('tick'));
    await consumed;
    // Readable's own iterator needs a tick for the 'readable' event and another for 'end'.
    expect(order).toEqual(['chunk 5', 'done']);
  });

  it('throws the error the stream is destroyed with, also while the loop waits', async () => {
    const stream = new MessageStream(64 * 1024);
    const consumed = (async () => {
      for await (const _chunk of stream) {
        // waits for more
      }
    })();
    stream.write(bytes('partial'));
    await new Promise((resolve) => setImmediate(resolve));
    stream.destroy(new MessageAbortedError('timeout'));
    await expect(consumed).rejects.toThrow(MessageAbortedError);
  });

  it('throws a premature close when destroyed without an error before its end', async () => {
    const stream = new MessageStream(64 * 1024);
    const iterator = stream[Symbol.asyncIterator]();
    const next = iterator.next();
    stream.destroy();
    await expect(next).rejects.toMatchObject({ code: 'ERR_STREAM_PREMATURE_CLOSE' });
  });

  it('destroys the stream when the loop breaks', async () => {
    const stream = new MessageStream(64 * 1024);
    stream.write(bytes('first'));
    stream.write(bytes('second'));
    for await (const _chunk of stream) break;
    expect(stream.destroyed).toBe(true);
  });

  it('serves overlapping next() calls in order', async () => {
    const stream = new MessageStream(64 * 1024);
    const iterator = stream[Symbol.asyncIterator]();
    const first = iterator.next();
    const second = iterator.next();
    stream.write(bytes('a'));
    await new Promise((resolve) => setImmediate(resolve));
    stream.write(bytes('b'));
    stream.push(null);
    expect(Buffer.from((await first).value as Uint8Array).toString()).toBe('a');
    expect(Buffer.from((await second).value as Uint8Array).toString()).toBe('b');
    expect((await iterator.next()).done).toBe(true);
  });

  it('keeps the backpressure: the reader asks for more through onDemand', async () => {
    const stream = new MessageStream(16);
    const iterator = stream[Symbol.asyncIterator]();
    expect(stream.write(new Uint8Array(40))).toBe(false);
    let demanded = 0;
    stream.onDemand = () => {
      demanded += 1;
    };
    const first = await iterator.next();
    expect((first.value as Uint8Array).length).toBe(40);
    expect(demanded).toBe(1);
  });

  it('serves the stream helpers that iterate it (toArray)', async () => {
    const stream = new MessageStream(64 * 1024);
    stream.write(bytes('x'));
    stream.write(bytes('y'));
    stream.push(null);
    expect(text(await stream.toArray())).toBe('xy');
  });
});
