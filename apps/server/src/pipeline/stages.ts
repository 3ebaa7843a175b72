import type { MailEvents } from '../events/mail-events.js';
import { type ParsedMessage, parseMessage } from '../mime/parse-message.js';
import type { Store } from '../store/store.js';
import type { IngestContext, IngestStage } from './ingest-pipeline.js';

/** Drains the message stream into one buffer: SQLite stores a BLOB, and the parser wants it whole. */
export function createReceiveStage(): IngestStage {
  return {
    name: 'receive',
    async run(context) {
      const chunks: Uint8Array[] = [];
      let totalBytes = 0;
      for await (const chunk of context.source) {
        chunks.push(chunk);
        totalBytes += chunk.byteLength;
      }
      context.raw = Buffer.concat(chunks, totalBytes);
    },
  };
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

/** `parse` is parseMessage itself or a worker pool's (mime/parse-pool.ts). */
export function createParseStage(
  parse: (raw: Uint8Array) => Promise<ParsedMessage> = parseMessage,
): IngestStage {
  return {
    name: 'parse',
    async run(context) {
      context.parsed = await parse(requireRaw(context));
    },
  };
}

/** Saves the parse: headers, bodies, attachment metadata and the search index. */
export function createIndexStage(store: Store): IngestStage {
  return {
    name: 'index',
    async run(context) {
      if (context.parsed === null) throw new Error('The parse stage must run before the index stage');
      context.summary = await store.saveParsed(context.id, context.parsed);
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
