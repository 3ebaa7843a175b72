import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { messageChunks, openMessage, peekLimitBytes } from './message-source.js';

async function collect(iterable: AsyncIterable<Uint8Array>): Promise<string> {
  const parts: Uint8Array[] = [];
  for await (const part of iterable) parts.push(part);
  return Buffer.concat(parts).toString('utf8');
}

describe('openMessage', () => {
  it('knows the size of strings and byte arrays as sent: CRLF line ends, the last line ended', async () => {
    const opened = await openMessage('h\u00e9llo');
    expect(opened.size).toBe(8); // 6 bytes and the CRLF that ends the last line
    expect((await openMessage(new TextEncoder().encode('a\nb\r\n'))).size).toBe(6);
    expect(opened.complete).toBe(true);
    expect(await collect(messageChunks(opened))).toBe('h\u00e9llo');
  });

  it('reads every stream form, peeking at most a bounded prefix', async () => {
    const chunk = new Uint8Array(16 * 1024).fill(0x61);
    const chunkCount = 10;
    let pulled = 0;
    const source = (async function* () {
      for (let index = 0; index < chunkCount; index++) {
        pulled++;
        yield chunk;
      }
    })();
    const opened = await openMessage(source);
    expect(opened.complete).toBe(false);
    expect(pulled).toBe(peekLimitBytes / chunk.byteLength);
    expect((await collect(messageChunks(opened))).length).toBe(chunk.byteLength * chunkCount);
  });

  it('accepts Node Readables (string chunks too) and Web ReadableStreams', async () => {
    expect(await collect(messageChunks(await openMessage(Readable.from(['a', 'b', 'c']))))).toBe('abc');
    expect((await openMessage(Readable.from(['a\r', '\nb\n']))).size).toBe(6);
    const web = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('web '));
        controller.enqueue(new TextEncoder().encode('stream'));
        controller.close();
      },
    });
    const opened = await openMessage(web);
    expect(opened.size).toBe(12);
    expect(await collect(messageChunks(opened))).toBe('web stream');
  });
});
