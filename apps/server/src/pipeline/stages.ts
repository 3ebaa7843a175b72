import type { MailEvents } from '../events/mail-events.js';
import { type ParsedMessage, parseMessage } from '../mime/parse-message.js';
import { snippetOf } from '../mime/text-of.js';
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

/** Resolves only once the store says the message is durable: the 250 comes after this. */
export function createStoreStage(store: Store): IngestStage {
  return {
    name: 'store',
    async run(context) {
      const raw = requireRaw(context);
      const parsed = context.parsed ?? (await parseMessage(raw));
      await store.insert({
        id: context.id,
        receivedAtMs: context.receivedAtMs,
        envelope: context.envelope,
        session: context.session,
        raw,
        ...parsed,
      });
      context.isStored = true;
    },
  };
}

export function createNotifyStage(events: MailEvents): IngestStage {
  return {
    name: 'notify',
    async run(context) {
      const parsed = context.parsed;
      if (!context.isStored || parsed === null) return;
      events.publish({
        type: 'message-stored',
        message: {
          id: context.id,
          receivedAtMs: context.receivedAtMs,
          subject: parsed.subject,
          from: parsed.from,
          to: parsed.to,
          envelopeFrom: context.envelope.from,
          envelopeTo: context.envelope.to,
          sizeBytes: context.raw?.byteLength ?? 0,
          isRead: false,
          attachmentCount: parsed.attachments.length,
          snippet: snippetOf(parsed),
        },
      });
    },
  };
}

function requireRaw(context: IngestContext): Uint8Array {
  if (context.raw === null) throw new Error('The receive stage must run before this stage');
  return context.raw;
}
