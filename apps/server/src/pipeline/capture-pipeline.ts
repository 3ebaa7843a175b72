import type { MailEvents } from '../events/mail-events.js';
import type { Store } from '../store/store.js';
import { IngestPipeline, type IngestPipelineOptions } from './ingest-pipeline.js';
import { createIndexStage, createNotifyStage, createReceiveStage, createStoreStage } from './stages.js';

export interface CapturePipelineOptions {
  readonly store: Store;
  readonly events: MailEvents;
  readonly onBackgroundError?: IngestPipelineOptions['onBackgroundError'];
}

/**
 * Capture mode: receive → store | 250 | index → notify. The reply waits only for the raw
 * bytes, envelope and session to be durable; the message is parsed, indexed and announced to the
 * web UI right after.
 */
export function createCapturePipeline(options: CapturePipelineOptions): IngestPipeline {
  return new IngestPipeline(
    [
      createReceiveStage(),
      createStoreStage(options.store),
      createIndexStage(options.store),
      createNotifyStage(options.events),
    ],
    {
      replyAfter: 'store',
      ...(options.onBackgroundError === undefined ? {} : { onBackgroundError: options.onBackgroundError }),
    },
  );
}
