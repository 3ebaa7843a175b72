import { randomBytes } from 'node:crypto';
import { createMessageId } from '../pipeline/message-id.js';
import type { DeliveryRecord, NoticeKind } from '../queue/delivery-queue.js';
import { deliveryRows } from '../queue/router.js';
import type { MessageRepository, ReceivedMessage } from '../spool/message-repository.js';
import { composeDeliveryReport, type ReportEntry } from './delivery-report.js';

export interface ReportSpoolerOptions {
  readonly spool: MessageRepository;
  readonly hostname: string;
  /** Told after a report is spooled, so the scheduler picks it up (it is an ordinary queued message). */
  readonly onSpooled: () => void;
  /** DKIM-signs a report (the app: signIfOurs with the MTA's keys); default: sent unsigned. */
  readonly sign?: (raw: Uint8Array) => Uint8Array;
}

export interface SpooledReport {
  readonly reportId: string;
  readonly reported: readonly DeliveryRecord[];
}

/**
 * Sends a DSN the only way this MTA sends anything: as a new message from `<>` into its own queue.
 * The report, its delivery and one `delivery_notices` row per reported delivery commit together;
 * that table's key (delivery, kind) makes a second report of the same thing fail, so each failure
 * and each delay warning is reported once even when a crash or a race asks twice.
 */
export class ReportSpooler {
  readonly #options: ReportSpoolerOptions;

  constructor(options: ReportSpoolerOptions) {
    this.#options = options;
  }

  /** Null when nothing is owed, or when it was reported before. */
  async send(request: {
    readonly original: ReceivedMessage;
    readonly kind: NoticeKind;
    readonly entries: readonly ReportEntry[];
    readonly now: number;
    readonly willRetryUntil?: number;
  }): Promise<SpooledReport | null> {
    const reportId = createMessageId(request.now);
    const report = composeDeliveryReport({
      reportingMta: this.#options.hostname,
      original: request.original,
      entries: request.entries,
      now: request.now,
      reportId,
      ...(request.willRetryUntil === undefined ? {} : { willRetryUntil: request.willRetryUntil }),
      random: (length) => randomBytes(length),
    });
    if (report === null) return null;
    const envelope = {
      from: '',
      to: [report.recipient],
      mailParameters: report.mailParameters,
      rcptParameters: [{}],
    };
    const notices = report.reported.map((delivery) => ({
      table: 'delivery_notices',
      values: { delivery_id: delivery.id, kind: request.kind, report_message_id: reportId },
    }));
    const raw = this.#options.sign?.(report.raw) ?? report.raw;
    try {
      await this.#options.spool.receive(raw, {
        id: reportId,
        receivedAtMs: request.now,
        envelope,
        session: null,
        companionRows: [
          ...deliveryRows({
            messageId: reportId,
            receivedAtMs: request.now,
            envelope,
            postmasterDomain: this.#options.hostname,
          }),
          ...notices,
        ],
      });
    } catch (error) {
      if (isAlreadyReported(error)) return null;
      throw error;
    }
    this.#options.onSpooled();
    return { reportId, reported: report.reported };
  }
}

function isAlreadyReported(error: unknown): boolean {
  const { code, message } = error as { code?: unknown; message?: unknown };
  return (
    (code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE') &&
    typeof message === 'string' &&
    message.includes('delivery_notices')
  );
}
