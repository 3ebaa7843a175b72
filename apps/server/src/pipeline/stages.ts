import { Readable } from 'node:stream';
import type { MailEvents } from '../events/mail-events.js';
import type { Store } from '../store/store.js';
import type { IngestContext, IngestStage } from './ingest-pipeline.js';

/** Drains the message stream into one buffer: SQLite stores a BLOB, and the parser wants it whole. */
export function createReceiveStage(): IngestStage {
  return {
    name: 'receive',
    async run(context) {
      context.raw =
        context.source instanceof Readable ? await readAll(context.source) : await collect(context.source);
    },
  };
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

/**
 * Commits the raw bytes, envelope and session, and resolves only once they are durable: the 250
 * comes after this stage. Nothing parsed is needed here, so MIME parsing stays off the critical path.
 */
export function createStoreStage(store: Store): IngestStage {
  return {
    name: 'store',
    async run(context) {
      await store.insertReceived({
        id: context.id,
        receivedAtMs: context.receivedAtMs,
        envelope: context.envelope,
        session: context.session,
        raw: requireRaw(context),
      });
      context.isStored = true;
    },
  };
}

/**
 * Parses the message and saves the parse: headers, addresses, attachment metadata and the search
 * index. The store does both (Store.indexReceived), next to its writes: the SQLite store sends the
 * bytes from its writer thread to a parse worker and back, so they never cross the main thread again.
 */
export function createIndexStage(store: Store): IngestStage {
  return {
    name: 'index',
    async run(context) {
      context.summary = await store.indexReceived(context.id);
    },
  };
}

/** Tells the web UI once the message can be shown with its subject, i.e. after the index stage. */
export function createNotifyStage(events: MailEvents): IngestStage {
  return {
    name: 'notify',
    async run(context) {
      if (context.summary === null) return; // deleted before its parse was saved
      events.publish({ type: 'message-stored', message: context.summary });
    },
  };
}

function requireRaw(context: IngestContext): Uint8Array {
  if (context.raw === null) throw new Error('The receive stage must run before this stage');
  return context.raw;
}
