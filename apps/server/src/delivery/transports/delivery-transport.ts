import type { AttemptRecord, LeasedDelivery } from '../../queue/delivery-queue.js';
import type { StoredEnvelope } from '../../spool/message-repository.js';
import type { SessionResult } from '../destination-window.js';

/**
 * What a transport is asked to do: one message to one destination, the recipients of that message
 * there in one SMTP transaction (GUIDE §2.8: remote today; lmtp and maildir later).
 */
export interface TransportJob {
  readonly messageId: string;
  readonly domain: string;
  readonly envelope: StoredEnvelope;
  readonly deliveries: readonly LeasedDelivery[];
  /** The message exactly as spooled. */
  readonly raw: Uint8Array;
}

/** One recipient's outcome with the record of the attempt that decided it. */
export interface RecipientAttempt {
  readonly deliveryId: number;
  readonly attempt: AttemptRecord;
  /**
   * The next hop offered DSN and took the recipient's NOTIFY/ORCPT (RFC 3461 §5.2.1): success
   * reports are then its job, not a "relayed" one from us (§5.2.2 (b)). Absent: it did not.
   */
  readonly nextHopTookDsn?: boolean;
}

export interface TransportResult {
  readonly recipients: readonly RecipientAttempt[];
  /** How the session went for the destination window (slow start, back-off, down). */
  readonly session: SessionResult;
}

export interface DeliveryTransport {
  /** Never rejects for delivery outcomes: every recipient of the job gets a RecipientAttempt. */
  send(job: TransportJob, signal: AbortSignal): Promise<TransportResult>;
}
