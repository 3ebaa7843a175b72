import { describe, expect, it } from 'vitest';
import { MessageStream } from '../src/message-stream.js';

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
