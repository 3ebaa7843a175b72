import type { DsnNotify, EnhancedStatus, Reply } from '@smtp/protocol';
import type { ClassificationRule } from '../delivery/reply-classification.js';
import type {
  DeliveryState,
  DeliveryStatus,
  FailureCause,
  Lease,
  TransitionResult,
} from './delivery-state.js';

/**
 * The delivery queue: one delivery per (message, recipient), the only truth about outbound mail
 * (GUIDE §2.8). Deliveries enter it as companion rows of their message (queue/router.ts builds
 * them, the spool commits them with the message, so the 250 means "stored and queued"); from then
 * on the queue leases them to the scheduler, records every attempt, and takes operators' actions.
 * The transitions are queue/delivery-state.ts's, so a store only persists them: SQLite today
 * (sqlite/sqlite-delivery-queue.ts), PostgreSQL for several nodes later, behind this same contract.
 * Times are epoch milliseconds passed in by the caller: the queue reads no clock.
 */

/** The original recipient as given with ORCPT (RFC 3461 §4.2), decoded from xtext. */
export interface OriginalRecipient {
  readonly addressType: string;
  readonly address: string;
}

/** One delivery as the queue shows it. */
export interface DeliveryRecord {
  readonly id: number;
  readonly messageId: string;
  /** The message's reverse-path; "" for `<>` (a DSN: never bounced, RFC 5321 §4.5.5). */
  readonly sender: string;
  readonly recipient: string;
  /** Where it goes: the recipient's domain, lower-case (the scheduler's destination). */
  readonly domain: string;
  /** The RCPT's NOTIFY (RFC 3461 §4.1); null when the client gave none. */
  readonly notify: DsnNotify | null;
  readonly originalRecipient: OriginalRecipient | null;
  readonly arrivedAt: number;
  readonly state: DeliveryState;
  /** The reply of the latest attempt and its status, for the queue page and DSNs. */
  readonly lastReply: Reply | null;
  readonly lastStatus: EnhancedStatus | null;
}

/** A delivery leased to a worker: its report must carry `lease.fencing`. */
export interface LeasedDelivery extends DeliveryRecord {
  readonly lease: Lease;
}

/** What one attempt found out, kept as a record (GUIDE §2.8 habit 4). */
export interface AttemptRecord {
  readonly startedAt: number;
  readonly endedAt: number;
  /** The MX host (or override/smarthost) that answered; null when none was reached. */
  readonly mxHost: string | null;
  readonly tls: boolean | null;
  readonly outcome: 'delivered' | 'deferred' | 'failed';
  readonly status: EnhancedStatus;
  readonly rule: ClassificationRule | 'too-many-hops' | 'destination-down' | 'transport-error';
  readonly reply: Reply | null;
  /** Why no reply decided it (connection refused, timeout), when none did. */
  readonly error: string | null;
  /** The client's side of the session in the transcript notation (`C:`/`S:` lines). */
  readonly transcript: string;
}

/** Stored attempts carry the lease they were made under. */
export interface StoredAttempt extends AttemptRecord {
  readonly id: number;
  readonly deliveryId: number;
  readonly fencing: number;
}

/** How an attempt ends for the delivery (the state machine's succeeded | deferred | failed). */
export type AttemptResult =
  | { readonly kind: 'succeeded' }
  | { readonly kind: 'deferred'; readonly nextDueAt: number }
  | { readonly kind: 'failed'; readonly cause: Exclude<FailureCause, 'bounced'> };

export interface AttemptReport {
  readonly deliveryId: number;
  readonly fencing: number;
  readonly now: number;
  readonly result: AttemptResult;
  /** null records the outcome without an attempt (a destination known to be down was not tried). */
  readonly attempt: AttemptRecord | null;
}

/** Operators' actions (queue page, API, CLI). */
export const operatorActions = ['retry-now', 'hold', 'release', 'bounce', 'delete'] as const;
export type OperatorAction = (typeof operatorActions)[number];

export interface DeliveryListQuery {
  readonly status?: DeliveryStatus;
  readonly domain?: string;
  /** Deliveries with an id above this one (keyset paging). */
  readonly afterId?: number;
  readonly limit: number;
}

export interface QueuedMessage {
  readonly messageId: string;
  readonly deliveries: readonly DeliveryRecord[];
  readonly attempts: readonly StoredAttempt[];
}

/** DSNs: which kinds were sent for a delivery (at most one of each). */
export type NoticeKind = 'failed' | 'delayed' | 'relayed';

/** A lease taken on a new message's deliveries as they are inserted (DeliveryQueue.leaseOnInsert). */
export interface InsertLease {
  readonly now: number;
  readonly holder: string;
  readonly leaseMs: number;
}

/**
 * The local scheduler's side of leasing at insert: asked as a message's deliveries are written,
 * told what the commit leased. Leasing in the insert's own transaction spares the claim that would
 * follow the 250 (a round trip to the writer and a commit of its own).
 */
export interface InsertLeases {
  /** A lease for the `deliveryCount` new deliveries of `messageId`, or null to leave them queued for a claim. */
  request(messageId: string, deliveryCount: number): InsertLease | null;
  /** The insert committed: its due deliveries, leased as requested (those not yet due stay queued). */
  adopt(messageId: string, leased: readonly LeasedDelivery[], requested: number): void;
  /** The insert failed: nothing was leased. */
  cancel(requested: number): void;
}

export interface DeliveryQueue {
  /**
   * Optional: lease a new message's due deliveries in the transaction that inserts them, for
   * `leases` (SQLite; a store without it leaves them to claimDue).
   */
  leaseOnInsert?(leases: InsertLeases): void;
  /** Leases up to `limit` due deliveries (oldest due first) to `holder` for `leaseMs`. */
  claimDue(request: {
    readonly now: number;
    readonly limit: number;
    readonly holder: string;
    readonly leaseMs: number;
  }): Promise<LeasedDelivery[]>;
  /**
   * Records an attempt and its outcome in one transaction. Refused (nothing written) when the
   * fencing number is stale: the lease expired and the delivery was queued or leased again.
   */
  recordAttempt(report: AttemptReport): Promise<TransitionResult>;
  /** Puts deliveries whose lease expired back in the queue, due now; returns how many. */
  requeueExpired(now: number): Promise<number>;
  /**
   * Puts deliveries leased by an earlier run of this node back in the queue, due now, whatever their
   * expiry: holders named `<holderPrefix>…` other than `currentHolder` died with that run (kill -9,
   * power loss). Their late reports, if any, carry a stale fencing number. Returns how many.
   */
  requeueAbandoned(request: {
    readonly holderPrefix: string;
    readonly currentHolder: string;
    readonly now: number;
  }): Promise<number>;
  /**
   * Retention: removes up to `limit` messages whose every delivery is final (delivered, failed,
   * deleted) and last changed before `finishedBefore`, with their deliveries, attempts, notices and
   * the message itself (spool and inbox), in one transaction. Returns the message ids removed.
   */
  purgeFinished(request: { readonly finishedBefore: number; readonly limit: number }): Promise<string[]>;
  /** When the next queued delivery is due; null when none is queued. */
  nextDueAt(): Promise<number | null>;
  act(deliveryId: number, action: OperatorAction, now: number): Promise<TransitionResult>;
  get(deliveryId: number): Promise<DeliveryRecord | null>;
  list(query: DeliveryListQuery): Promise<DeliveryRecord[]>;
  /** A message's deliveries with every attempt; null when the queue has none for it. */
  show(messageId: string): Promise<QueuedMessage | null>;
  countByStatus(): Promise<Readonly<Record<DeliveryStatus, number>>>;
  /**
   * Failed deliveries whose failure report is owed but was never queued: a crash came between
   * recording the failure and queueing its DSN. The sender `<>` and NOTIFY without FAILURE owe none.
   */
  unreportedFailures(limit: number): Promise<DeliveryRecord[]>;
  /** The DSN kinds already sent for these deliveries. */
  noticesOf(deliveryIds: readonly number[]): Promise<ReadonlyMap<number, ReadonlySet<NoticeKind>>>;
}
