import type { EnhancedStatus, Reply } from '@smtp/protocol';
import type { ReportEntry } from '../bounce/delivery-report.js';
import type { ReportSpooler } from '../bounce/report-spooler.js';
import type { EventBus } from '../events/event-bus.js';
import type {
  AttemptRecord,
  AttemptResult,
  DeliveryQueue,
  DeliveryRecord,
  LeasedDelivery,
  NoticeKind,
} from '../queue/delivery-queue.js';
import { delayWarningDue, giveUpAt, nextAttempt, type RetryPolicy } from '../queue/retry-policy.js';
import type { MessageRepository, ReceivedMessage } from '../spool/message-repository.js';
import { isSuppressingFailure, type SuppressionList } from '../suppression/suppression-list.js';
import type { Clock } from './clock.js';
import type { DeliveryEvent } from './delivery-event.js';
import type { TransportJob, TransportResult } from './transports/delivery-transport.js';

export interface OutcomeRecorderOptions {
  readonly queue: DeliveryQueue;
  readonly spool: MessageRepository;
  readonly reports: ReportSpooler;
  readonly retryPolicy: RetryPolicy;
  readonly clock: Clock;
  readonly random?: () => number;
  readonly events?: EventBus<DeliveryEvent>;
  /** Recipients a remote refused as bad mailboxes (5.1.x) are added: later mail to them is refused at RCPT. */
  readonly suppressions?: SuppressionList;
  /** A report the queue refused (stale lease) or a DSN that could not be spooled. */
  readonly onProblem?: (problem: string, details: Record<string, unknown>) => void;
}

/**
 * The outcomes room (GUIDE §2.8): turns a transport's per-recipient attempts into queue updates
 * (retry schedule and give-up from retry-policy.ts), then into the DSNs the sender asked for:
 * one failure report per set of recipients that failed together, one delay warning per recipient
 * once it has waited `delayWarningAfter`, and "relayed" for NOTIFY=SUCCESS when the next hop did not
 * take NOTIFY on (RFC 3461 §5.2.2 (b)); when it did, success is its to report.
 */
export class OutcomeRecorder {
  readonly #options: OutcomeRecorderOptions;

  constructor(options: OutcomeRecorderOptions) {
    this.#options = options;
  }

  async record(job: TransportJob, result: TransportResult): Promise<void> {
    const byId = new Map(job.deliveries.map((delivery) => [delivery.id, delivery]));
    const outcomes: RecipientOutcome[] = [];
    for (const { deliveryId, attempt, nextHopTookDsn } of result.recipients) {
      const delivery = byId.get(deliveryId);
      if (delivery === undefined) continue;
      outcomes.push({
        nextHopReports: nextHopTookDsn === true,
        delivery,
        outcome: attempt.outcome,
        attempt,
        status: attempt.status,
        reply: attempt.reply,
        remoteMta: attempt.mxHost,
        lastAttemptAt: attempt.endedAt,
        retryAt: null,
      });
    }
    await this.#apply(job.messageId, outcomes);
  }

  /**
   * A destination known to be down was not tried (destination-window.ts): these deliveries wait
   * until its next probe, `until`, without an attempt record. The retry policy still rules them:
   * past `giveUpAfter` they fail (5.4.7) with the failure report, and the delay warning goes out on
   * time, so a domain down for days gets its DSNs even though only the probes touch it.
   */
  async postpone(messageId: string, deliveries: readonly LeasedDelivery[], until: number): Promise<void> {
    await this.#apply(
      messageId,
      deliveries.map((delivery) => ({
        delivery,
        outcome: 'deferred',
        attempt: null,
        status: delivery.lastStatus?.startsWith('4.') ? delivery.lastStatus : '4.4.1',
        reply: delivery.lastReply,
        remoteMta: null,
        lastAttemptAt: this.#options.clock.now(),
        retryAt: until,
        nextHopReports: false,
      })),
    );
  }

  async #apply(messageId: string, outcomes: readonly RecipientOutcome[]): Promise<void> {
    const { queue, retryPolicy, clock } = this.#options;
    const random = this.#options.random ?? Math.random;
    const now = clock.now();
    const reports: Record<NoticeKind, ReportEntry[]> = { failed: [], delayed: [], relayed: [] };
    const deferred: { delivery: LeasedDelivery; entry: Omit<ReportEntry, 'action'> }[] = [];
    for (const { delivery, outcome, attempt, retryAt, nextHopReports, ...reported } of outcomes) {
      const deliveryId = delivery.id;
      let queueResult: AttemptResult;
      let status = reported.status;
      if (outcome === 'delivered') queueResult = { kind: 'succeeded' };
      else if (outcome === 'failed') queueResult = { kind: 'failed', cause: 'rejected' };
      else {
        const decision = nextAttempt(retryPolicy, {
          arrivedAt: delivery.arrivedAt,
          deferrals: delivery.state.attempts,
          now,
          random,
        });
        if (decision.kind === 'retry')
          queueResult = {
            kind: 'deferred',
            // Postponed: due when the destination may be probed again, or at the give-up time.
            nextDueAt:
              retryAt === null
                ? decision.dueAt
                : Math.min(retryAt, giveUpAt(retryPolicy, delivery.arrivedAt)),
          };
        else {
          queueResult = { kind: 'failed', cause: 'expired' };
          status = '5.4.7'; // RFC 3463: delivery time expired
        }
      }
      const transition = await queue.recordAttempt({
        deliveryId,
        fencing: delivery.lease.fencing,
        now,
        result: queueResult,
        attempt,
      });
      if (!transition.ok) {
        // The lease expired meanwhile and the delivery went back to the queue: its next attempt
        // reports; this one is the duplicate window the lease makes visible.
        this.#options.onProblem?.('a delivery report was refused', { deliveryId, reason: transition.reason });
        continue;
      }
      if (attempt !== null)
        this.#options.events?.publish({
          type: 'delivery-attempted',
          deliveryId,
          messageId,
          recipient: delivery.recipient,
          domain: delivery.domain,
          status: transition.state.status,
          attempt,
        });
      const entry = { delivery, ...reported, status };
      if (transition.state.status === 'failed') {
        reports.failed.push({ ...entry, action: 'failed' });
        if (attempt !== null && isSuppressingFailure(attempt))
          await this.#suppress(messageId, delivery, attempt.reply, now);
      } else if (transition.state.status === 'delivered') {
        // RFC 3461 §5.2.2 (b): "relayed" when the next hop could not take NOTIFY=SUCCESS on.
        const notify = delivery.notify;
        if (!nextHopReports && notify !== null && notify !== 'NEVER' && notify.includes('SUCCESS'))
          reports.relayed.push({ ...entry, action: 'relayed' });
      } else deferred.push({ delivery, entry });
    }
    if (deferred.length > 0) {
      const notices = await queue.noticesOf(deferred.map(({ delivery }) => delivery.id));
      for (const { delivery, entry } of deferred) {
        const warned = notices.get(delivery.id)?.has('delayed') ?? false;
        if (delayWarningDue(retryPolicy, { arrivedAt: delivery.arrivedAt, now, warned }))
          reports.delayed.push({ ...entry, action: 'delayed' });
      }
    }
    if (reports.failed.length + reports.delayed.length + reports.relayed.length === 0) return;
    const original = await this.#options.spool.getReceived(messageId);
    if (original === null) return;
    for (const kind of ['failed', 'delayed', 'relayed'] as const) {
      if (reports[kind].length === 0) continue;
      await this.#report(original, kind, reports[kind], now);
    }
  }

  /**
   * At start: the failure reports a crash kept from being queued (recorded failed, no notice).
   * Each is reported with the reply and status its last attempt recorded.
   */
  async reportUnreported(limit = 10_000): Promise<number> {
    let reported = 0;
    const failed = await this.#options.queue.unreportedFailures(limit);
    for (const [messageId, deliveries] of groupByMessage(failed)) {
      // A message gone from the spool cannot be reported on.
      const original = await this.#options.spool.getReceived(messageId);
      if (original === null) continue;
      const entries = deliveries.map((delivery) => ({
        delivery,
        action: 'failed' as const,
        status: delivery.lastStatus?.startsWith('5.') ? delivery.lastStatus : ('5.0.0' as const),
        reply: delivery.lastReply,
        remoteMta: null,
        lastAttemptAt: delivery.state.status === 'failed' ? delivery.state.at : this.#options.clock.now(),
      }));
      if (await this.#report(original, 'failed', entries, this.#options.clock.now()))
        reported += deliveries.length;
    }
    return reported;
  }

  /**
   * An operator bounced these deliveries (queue action `bounce`): the senders who asked for failure
   * reports get one per message, as for a remote refusal, with status 5.0.0 and no remote reply.
   */
  async reportBounced(deliveries: readonly DeliveryRecord[]): Promise<void> {
    const now = this.#options.clock.now();
    const byMessage = new Map<string, DeliveryRecord[]>();
    for (const delivery of deliveries) {
      if (delivery.state.status !== 'failed') continue;
      byMessage.set(delivery.messageId, [...(byMessage.get(delivery.messageId) ?? []), delivery]);
    }
    for (const [messageId, bounced] of byMessage) {
      const original = await this.#options.spool.getReceived(messageId);
      if (original === null) continue;
      const entries = bounced.map((delivery) => ({
        delivery,
        action: 'failed' as const,
        status: '5.0.0' as const,
        reply: null,
        remoteMta: null,
        lastAttemptAt: now,
      }));
      await this.#report(original, 'failed', entries, now);
    }
  }

  async #suppress(
    messageId: string,
    delivery: LeasedDelivery,
    reply: Reply | null,
    now: number,
  ): Promise<void> {
    const suppressions = this.#options.suppressions;
    if (suppressions === undefined || reply === null) return;
    try {
      await suppressions.add({
        address: delivery.recipient,
        reason: replyText(reply),
        createdAtMs: now,
        messageId,
        deliveryId: delivery.id,
      });
    } catch (error) {
      this.#options.onProblem?.('a recipient could not be suppressed', {
        deliveryId: delivery.id,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  async #report(
    original: ReceivedMessage,
    kind: NoticeKind,
    entries: readonly ReportEntry[],
    now: number,
  ): Promise<boolean> {
    try {
      const spooled = await this.#options.reports.send({
        original,
        kind,
        entries,
        now,
        ...(kind === 'delayed'
          ? { willRetryUntil: giveUpAt(this.#options.retryPolicy, original.receivedAtMs) }
          : {}),
      });
      if (spooled === null) return true;
      this.#options.events?.publish({
        type: 'report-queued',
        reportId: spooled.reportId,
        originalMessageId: original.id,
        action: kind,
        recipients: spooled.reported.map((delivery) => delivery.recipient),
      });
      return true;
    } catch (error) {
      this.#options.onProblem?.('a delivery report could not be spooled', {
        messageId: original.id,
        kind,
        error: error instanceof Error ? error.message : String(error),
      });
      return false;
    }
  }
}

/** One recipient's outcome as the queue and the reports need it. */
interface RecipientOutcome {
  readonly delivery: LeasedDelivery;
  readonly outcome: AttemptRecord['outcome'];
  /** null: not tried (postponed while its destination is down). */
  readonly attempt: AttemptRecord | null;
  readonly status: EnhancedStatus;
  readonly reply: Reply | null;
  readonly remoteMta: string | null;
  readonly lastAttemptAt: number;
  /** Postponed: the earliest time it may be tried again; null for the retry schedule's own. */
  readonly retryAt: number | null;
  /** The next hop took NOTIFY on (it reports success itself). */
  readonly nextHopReports: boolean;
}

function groupByMessage(deliveries: readonly DeliveryRecord[]): Map<string, DeliveryRecord[]> {
  const groups = new Map<string, DeliveryRecord[]>();
  for (const delivery of deliveries)
    groups.set(delivery.messageId, [...(groups.get(delivery.messageId) ?? []), delivery]);
  return groups;
}

/** `550 5.1.1 text`, one line, for the suppression's reason. */
function replyText(reply: Reply): string {
  return `${reply.code}${reply.enhanced === null ? '' : ` ${reply.enhanced}`} ${reply.lines.join(' ')}`.trimEnd();
}
