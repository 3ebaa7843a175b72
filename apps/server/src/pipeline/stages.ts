import type { MailboxEvent } from '../capture/mailbox-event.js';
import type { MailboxIndex } from '../capture/mailbox-index.js';
import { tagsOfHeader, uniqueTags } from '../capture/message-tags.js';
import { type TagRule, tagsByRules } from '../capture/tag-rules.js';
import type { EventBus } from '../events/event-bus.js';
import { readHeaderFields } from '../mime/header-fields.js';
import type { ParseScope } from '../mime/parse-message.js';
import type { MessageRepository } from '../spool/message-repository.js';
import type { IngestStage } from './ingest-pipeline.js';

/**
 * Hands the message to the spool, which reads it to its end and resolves only once the bytes,
 * envelope and session are durable: the 250 comes after this stage. Nothing parsed is needed
 * here, so MIME parsing stays off the critical path. A stage before it that needed the bytes
 * (a DKIM check) has drained the source into `context.raw`; the spool then takes those.
 */
export function createStoreStage(spool: MessageRepository): IngestStage {
  return {
    name: 'store',
    async run(context) {
      const received = await spool.receive(context.raw ?? context.source, {
        id: context.id,
        receivedAtMs: context.receivedAtMs,
        envelope: context.envelope,
        session: context.session,
        ...(context.companionRows === undefined ? {} : { companionRows: context.companionRows }),
      });
      context.raw = received.raw;
      context.isStored = true;
    },
  };
}

/**
 * Parses the message and saves the parse: headers, addresses, attachment metadata and the search
 * index. The mailbox index does both (MailboxIndex.index), next to its writes: the SQLite one sends
 * the bytes from its writer thread to a parse worker and back, so they never cross the main thread again.
 * With `scope` 'headers' only the header section is parsed (the MTA's default, mta.indexBodies).
 */
export function createIndexStage(mailbox: MailboxIndex, scope: ParseScope = 'message'): IngestStage {
  return {
    name: 'index',
    async run(context) {
      context.summary = await mailbox.index(context.id, scope);
    },
  };
}

/** Tells the web UI once the message can be shown with its subject, i.e. after the index stage. */
export function createNotifyStage(events: EventBus<MailboxEvent>): IngestStage {
  return {
    name: 'notify',
    async run(context) {
      if (context.summary === null) return; // deleted before its parse was saved
      events.publish({ type: 'message-stored', message: context.summary });
    },
  };
}

/** How the tag stage finds a message's tags at receive (config `tags`). */
export interface TaggingSettings {
  /** The header naming tags (X-Tags); null: none is read. */
  readonly header: string | null;
  readonly rules: readonly TagRule[];
}

/**
 * Tags a stored message from its tag header and the tag rules, before it is parsed, so it is listed
 * with them from the start. Reads the header section only; the envelope and the From/To/Cc/Subject
 * fields feed the rules. Adds (never replaces): a message recovered at startup keeps what the API set.
 */
export function createTagStage(mailbox: MailboxIndex, settings: TaggingSettings): IngestStage {
  const fieldNames = ['from', 'to', 'cc', 'subject', ...(settings.header === null ? [] : [settings.header])];
  return {
    name: 'tag',
    async run(context) {
      if (context.raw === null) return;
      const fields = readHeaderFields(context.raw, fieldNames);
      const headerTags =
        settings.header === null
          ? []
          : (fields.get(settings.header.toLowerCase()) ?? []).flatMap((value) => tagsOfHeader(value));
      const ruleTags =
        settings.rules.length === 0
          ? []
          : tagsByRules(settings.rules, {
              senders: [context.envelope.from, ...(fields.get('from') ?? [])],
              recipients: [...context.envelope.to, ...(fields.get('to') ?? []), ...(fields.get('cc') ?? [])],
              subject: fields.get('subject')?.[0] ?? '',
            });
      const tags = uniqueTags([...headerTags, ...ruleTags]);
      if (tags.length > 0) await mailbox.addTags(context.id, tags);
    },
  };
}
