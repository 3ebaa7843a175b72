import type {
  CompanionRow,
  MessageRepository,
  SmtpSessionDetails,
  StoredEnvelope,
} from '../spool/message-repository.js';
import type { MessageSource } from '../spool/read-message-source.js';
import type { RecipientParameters } from './recipient-parameters.js';
import { deliveryRows, type RecipientTarget } from './router.js';

/** A message an MTA listener (or any other submitter) accepted for delivery. */
export interface MessageForDelivery {
  readonly id: string;
  readonly receivedAtMs: number;
  readonly envelope: StoredEnvelope;
  readonly session: SmtpSessionDetails | null;
  /** NOTIFY and ORCPT per recipient, in the order of `envelope.to` (RFC 3461). */
  readonly recipientParameters?: readonly (RecipientParameters | undefined)[];
  readonly source: MessageSource;
  /** Per recipient of `envelope.to`: the deliveries it expands to (RouteRequest.recipientTargets). */
  readonly recipientTargets?: readonly (readonly RecipientTarget[] | undefined)[];
  /** More rows to commit with the message (the inbound record). */
  readonly companionRows?: readonly CompanionRow[];
}

export interface QueueSinkOptions {
  readonly spool: MessageRepository;
  /**
   * How the message and its deliveries are stored; default spool.receive. The app passes its
   * ingest pipeline's accept, so outbound mail is also parsed and indexed for the web UI.
   */
  readonly store?: (message: MessageForDelivery, companionRows: readonly CompanionRow[]) => Promise<void>;
  /** Our domain, for `<Postmaster>` without one. */
  readonly postmasterDomain: string;
  /** Told before the message is stored (the scheduler's storing(): it may lease at insert). */
  readonly onStoring?: (messageId: string) => void;
  /** Told once the message and its deliveries are committed, or the store failed (the scheduler's queued()). */
  readonly onQueued: (messageId: string) => void;
}

/**
 * Where accepted outbound mail goes: the spool stores the message and the router's deliveries in
 * one group-committed transaction, and accept() resolves only then, so the listener's 250 means
 * "stored and queued". The scheduler is woken in process; nothing polls.
 */
export function createQueueSink(options: QueueSinkOptions): {
  accept(message: MessageForDelivery): Promise<void>;
} {
  return {
    async accept(message) {
      const companionRows = [
        ...deliveryRows({
          messageId: message.id,
          receivedAtMs: message.receivedAtMs,
          envelope: message.envelope,
          postmasterDomain: options.postmasterDomain,
          ...(message.recipientParameters === undefined
            ? {}
            : { recipientParameters: message.recipientParameters }),
          ...(message.recipientTargets === undefined ? {} : { recipientTargets: message.recipientTargets }),
        }),
        ...(message.companionRows ?? []),
      ];
      options.onStoring?.(message.id);
      try {
        if (options.store !== undefined) await options.store(message, companionRows);
        else
          await options.spool.receive(message.source, {
            id: message.id,
            receivedAtMs: message.receivedAtMs,
            envelope: message.envelope,
            session: message.session,
            companionRows,
          });
      } finally {
        // Also after a failure: a commit may have happened before it, and the scheduler forgets the id.
        options.onQueued(message.id);
      }
    },
  };
}
