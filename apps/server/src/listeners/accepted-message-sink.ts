import type { CheckResult } from '../inbound/inbound-checks.js';
import type { IngestPipeline } from '../pipeline/ingest-pipeline.js';
import type { RecipientParameters } from '../queue/recipient-parameters.js';
import type { RecipientTarget } from '../queue/router.js';
import type { CompanionRow, SmtpSessionDetails, StoredEnvelope } from '../spool/message-repository.js';

/** A message an MTA listener accepted, with the fix-ups already applied to `source`. */
export interface AcceptedMessage {
  readonly id: string;
  readonly receivedAtMs: number;
  readonly envelope: StoredEnvelope;
  readonly session: SmtpSessionDetails;
  /** The message bytes as they arrive (Received line first); the sink drains it. */
  readonly source: AsyncIterable<Uint8Array>;
  /** NOTIFY and ORCPT of each RCPT (RFC 3461), in the order of `envelope.to`, for the queue's DSNs. */
  readonly recipientParameters?: readonly RecipientParameters[];
  /** Set when an `mx` listener received it from another MTA: what the inbound checks found. */
  readonly inbound?: { readonly checks: readonly CheckResult[] };
  /** Set by the inbound sink: where each recipient really goes (aliases, forwards), for the router. */
  readonly recipientTargets?: readonly (readonly RecipientTarget[] | undefined)[];
  /** Set by the inbound sink: rows committed with the message (its inbound record). */
  readonly companionRows?: readonly CompanionRow[];
}

/**
 * Where an MTA listener hands a message it accepted. accept() resolves once the message is durable:
 * the listener answers 250 only then. Throw SmtpReplyError to refuse with that reply; any other error
 * becomes 451 4.3.0 and the client keeps the message.
 *
 * In MTA mode the delivery queue is the sink (delivery/delivery-room.ts): the message and one
 * delivery per recipient commit together, then the scheduler is woken. createIngestSink stores
 * through the capture pipeline alone, without delivering.
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
