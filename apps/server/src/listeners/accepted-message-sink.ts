import type { IngestPipeline } from '../pipeline/ingest-pipeline.js';
import type { SmtpSessionDetails, StoredEnvelope } from '../spool/message-repository.js';

/** A message an MTA listener accepted, with the fix-ups already applied to `source`. */
export interface AcceptedMessage {
  readonly id: string;
  readonly receivedAtMs: number;
  readonly envelope: StoredEnvelope;
  readonly session: SmtpSessionDetails;
  /** The message bytes as they arrive (Received line first); the sink drains it. */
  readonly source: AsyncIterable<Uint8Array>;
}

/**
 * Where an MTA listener hands a message it accepted. accept() resolves once the message is durable:
 * the listener answers 250 only then. Throw SmtpReplyError to refuse with that reply; any other error
 * becomes 451 4.3.0 and the client keeps the message.
 *
 * The seam for the durable queue: until it lands, createIngestSink stores accepted mail through the
 * capture pipeline (it shows in the web inbox); the queue will implement this same interface
 * (spool, then one delivery per recipient) and the listeners will not change.
 */
export interface AcceptedMessageSink {
  accept(message: AcceptedMessage): Promise<void>;
}

/** Today's sink: the ingest pipeline into the store, like captured mail. */
export function createIngestSink(pipeline: IngestPipeline): AcceptedMessageSink {
  return {
    async accept(message) {
      await pipeline.accept(message);
    },
  };
}
