import { Readable } from 'node:stream';

/** A message's bytes: whole, or as they arrive (the SMTP DATA stream). */
export type MessageSource = Uint8Array | AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

/** Drains a message source into one buffer: SQLite stores a BLOB, and the parser wants it whole. */
export function readMessageSource(source: MessageSource): Promise<Uint8Array> {
  if (source instanceof Uint8Array) return Promise.resolve(source);
  return source instanceof Readable ? readAll(source) : collect(source);
}

async function collect(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  let totalBytes = 0;
  for await (const chunk of source) {
    chunks.push(chunk);
    totalBytes += chunk.byteLength;
  }
  return Buffer.concat(chunks, totalBytes);
}

/**
 * collect() for a Node stream, on its events: an async iterator costs a promise per chunk and
 * end-of-stream tracking, a tenth of the main thread's time per small message.
 */
function readAll(stream: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    if (stream.destroyed) {
      reject(stream.errored ?? new Error('The message stream was closed before its end'));
      return;
    }
    const chunks: Buffer[] = [];
    let totalBytes = 0;
    let hasEnded = false;
    stream.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      totalBytes += chunk.byteLength;
    });
    stream.once('end', () => {
      hasEnded = true;
      resolve(Buffer.concat(chunks, totalBytes));
    });
    stream.once('error', reject);
    // Destroyed without an error: never hang. (Only then: an Error costs a stack trace.)
    stream.once('close', () => {
      if (!hasEnded) reject(new Error('The message stream was closed before its end'));
    });
  });
}
