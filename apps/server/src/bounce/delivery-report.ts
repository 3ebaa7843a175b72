import {
  buildDsn,
  type DsnAction,
  type DsnRecipient,
  dsnChunks,
  dsnWanted,
  type EnhancedStatus,
  type Mailbox,
  parseMailbox,
  type Reply,
} from '@smtp/protocol';
import type { DeliveryRecord } from '../queue/delivery-queue.js';
import type { ReceivedMessage } from '../spool/message-repository.js';

/** One recipient to report on, with what its latest attempt found. */
export interface ReportEntry {
  readonly delivery: DeliveryRecord;
  readonly action: Extract<DsnAction, 'failed' | 'delayed' | 'relayed'>;
  readonly status: EnhancedStatus;
  readonly reply: Reply | null;
  readonly remoteMta: string | null;
  readonly lastAttemptAt: number;
}

export interface ReportRequest {
  /** Our host name: Reporting-MTA and MAILER-DAEMON@…. */
  readonly reportingMta: string;
  readonly original: ReceivedMessage;
  readonly entries: readonly ReportEntry[];
  readonly now: number;
  /** The DSN's own message id (its Message-ID is `<id@reportingMta>`). */
  readonly reportId: string;
  /** Will-Retry-Until of a delay warning. */
  readonly willRetryUntil?: number;
  readonly random: (length: number) => Uint8Array;
}

export interface DeliveryReport {
  /** The original sender: the DSN's only recipient. */
  readonly recipient: string;
  /** The deliveries it reports on (those whose NOTIFY asked for this action). */
  readonly reported: readonly DeliveryRecord[];
  readonly raw: Uint8Array;
  readonly mailParameters: Readonly<Record<string, string>>;
}

const syntax = { mode: 'lenient', smtpUtf8: true } as const;

/**
 * The DSN owed for some recipients of one message (RFC 3464 through the core's buildDsn), or null
 * when none is owed: the sender is `<>` (never bounce a bounce, RFC 5321 §4.5.5), or NOTIFY asked
 * for none of these (RFC 3461 §4.1). RET and ENVID come from the original MAIL FROM, ORCPT from each
 * delivery. Pure.
 */
export function composeDeliveryReport(request: ReportRequest): DeliveryReport | null {
  const { original } = request;
  const sender = original.envelope.from === '' ? null : mailboxOf(original.envelope.from);
  if (sender === null) return null;
  const wanted = request.entries.filter((entry) =>
    dsnWanted(entry.delivery.notify ?? undefined, entry.action, sender),
  );
  const recipients: DsnRecipient[] = [];
  const reported: DeliveryRecord[] = [];
  for (const entry of wanted) {
    const finalRecipient = mailboxOf(entry.delivery.recipient);
    if (finalRecipient === null) continue;
    reported.push(entry.delivery);
    recipients.push({
      finalRecipient,
      ...(entry.delivery.originalRecipient === null
        ? {}
        : { originalRecipient: entry.delivery.originalRecipient }),
      action: entry.action,
      status: entry.status,
      ...(entry.remoteMta === null ? {} : { remoteMta: entry.remoteMta }),
      ...(entry.reply === null ? {} : { diagnostic: entry.reply }),
      lastAttemptDate: new Date(entry.lastAttemptAt),
      ...(entry.action === 'delayed' && request.willRetryUntil !== undefined
        ? { willRetryUntil: new Date(request.willRetryUntil) }
        : {}),
    });
  }
  if (recipients.length === 0) return null;
  const parameters = original.envelope.mailParameters;
  const ret = parameters.RET === 'FULL' || parameters.RET === 'HDRS' ? parameters.RET : undefined;
  const dsn = buildDsn({
    reportingMta: request.reportingMta,
    reversePath: sender,
    ...(parameters.ENVID === undefined ? {} : { envelopeId: parameters.ENVID }),
    ...(ret === undefined ? {} : { ret }),
    arrivalDate: new Date(original.receivedAtMs),
    now: new Date(request.now),
    messageId: `<${request.reportId}@${request.reportingMta}>`,
    recipients,
    originalHeaders: original.raw,
    originalEightBit: parameters.BODY === '8BITMIME',
    originalSmtpUtf8: 'SMTPUTF8' in parameters,
    random: request.random,
  });
  const chunks = [...dsnChunks(dsn, [original.raw])];
  const raw = new Uint8Array(chunks.reduce((total, chunk) => total + chunk.byteLength, 0));
  let offset = 0;
  for (const chunk of chunks) {
    raw.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return {
    recipient: original.envelope.from,
    reported,
    raw,
    mailParameters: {
      ...(dsn.body === '8BITMIME' ? { BODY: '8BITMIME' } : {}),
      ...(dsn.smtpUtf8 ? { SMTPUTF8: '' } : {}),
    },
  };
}

function mailboxOf(address: string): Mailbox | null {
  const parsed = parseMailbox(address, syntax);
  return parsed.ok ? parsed.value : null;
}
