import type { MailboxEvent } from '../capture/mailbox-event.js';
import type { MailboxIndex } from '../capture/mailbox-index.js';
import type { EventBus } from '../events/event-bus.js';
import type { ParseScope } from '../mime/parse-message.js';
import type { MessageRepository } from '../spool/message-repository.js';
import { IngestPipeline, type IngestPipelineOptions } from './ingest-pipeline.js';
import {
  createIndexStage,
  createNotifyStage,
  createStoreStage,
  createTagStage,
  type TaggingSettings,
} from './stages.js';

export interface CapturePipelineOptions {
  readonly spool: MessageRepository;
  readonly mailbox: MailboxIndex;
  readonly events: EventBus<MailboxEvent>;
  readonly onBackgroundError?: IngestPipelineOptions['onBackgroundError'];
  /** Tags at receive (config `tags`). Default: the X-Tags header, no rules. */
  readonly tagging?: TaggingSettings;
  /** How much of each message the index stage parses; default 'message' (all of it). */
  readonly indexScope?: ParseScope;
}

/**
 * Capture mode: store (the spool drains the stream and commits) | 250 | tag → index → notify. The reply
 * waits only for the raw bytes, envelope and session to be durable; the message is parsed, indexed
 * and announced to the web UI right after.
 */
export function createCapturePipeline(options: CapturePipelineOptions): IngestPipeline {
  return new IngestPipeline(
    [
      createStoreStage(options.spool),
      createTagStage(options.mailbox, options.tagging ?? { header: 'X-Tags', rules: [] }),
      createIndexStage(options.mailbox, options.indexScope),
      createNotifyStage(options.events),
    ],
    {
      replyAfter: 'store',
      ...(options.onBackgroundError === undefined ? {} : { onBackgroundError: options.onBackgroundError }),
    },
  );
}
