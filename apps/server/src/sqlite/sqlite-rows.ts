import type { MessageSummary } from '../capture/mailbox-index.js';
import type {
  AttachmentMetadata,
  MessageAddress,
  MessageHeader,
  ParsedMessage,
} from '../mime/parsed-message.js';
import type { SmtpSessionDetails, StoredEnvelope } from '../spool/message-repository.js';

/** The row shapes and JSON documents of the SQLite database, shared by its reads and its writes. */

export interface SummaryRow {
  seq: number;
  id: string;
  received_at_ms: number;
  subject: string;
  from_json: string | null;
  to_json: string;
  envelope_from: string;
  envelope_to_json: string;
  size_bytes: number;
  is_read: number;
  attachment_count: number;
  snippet: string;
  is_parsed: number;
  /** JSON array of the message's tags, sorted (summaryColumns' subquery). */
  tags_json: string;
}

export interface DetailRow extends SummaryRow {
  detail_json: string;
  raw: Uint8Array;
}

/** The parts of a message kept as one JSON document: read together, never filtered on. */
export interface MessageDetail {
  envelope: StoredEnvelope;
  session: SmtpSessionDetails | null;
  cc: readonly MessageAddress[];
  bcc: readonly MessageAddress[];
  replyTo: readonly MessageAddress[];
  messageIdHeader: string | null;
  dateHeaderMs: number | null;
  headers: readonly MessageHeader[];
  attachments: readonly AttachmentMetadata[];
  /** Only the header section was parsed at receive (ParsedMessage.bodyParsed). */
  bodyParsed?: false;
}

/**
 * Reads a detail document. Messages stored before RCPT parameters were kept have no
 * `envelope.rcptParameters`: they read back with none for each recipient (a JSON column, no migration).
 */
export function parseDetail(json: string): MessageDetail {
  const detail = JSON.parse(json) as MessageDetail;
  const envelope: Partial<StoredEnvelope> & Omit<StoredEnvelope, 'rcptParameters'> = detail.envelope;
  if (envelope.rcptParameters !== undefined) return detail;
  return { ...detail, envelope: { ...envelope, rcptParameters: envelope.to.map(() => ({})) } };
}

export const summaryColumns = `m.seq, m.id, m.received_at_ms, m.subject, m.from_json, m.to_json, m.envelope_from,
  m.envelope_to_json, m.size_bytes, m.is_read, m.attachment_count, m.snippet, m.is_parsed,
  (SELECT json_group_array(tag) FROM (SELECT t.tag FROM message_tags t WHERE t.seq = m.seq ORDER BY t.tag))
    AS tags_json`;

/** What a parse adds to a message's detail document; the rest is its envelope and session. */
export type ParsedDetail = Omit<MessageDetail, 'envelope' | 'session'>;

/** The detail document of a message: what it was received with, and what its parse derived. */
export function detailOf(
  envelope: StoredEnvelope,
  session: SmtpSessionDetails | null,
  parsed: ParsedMessage,
): MessageDetail {
  return { envelope, session, ...parsedDetailOf(parsed) };
}

/** The part of the detail document a parse derives (kept in SQLite and PostgreSQL alike). */
export function parsedDetailOf(parsed: ParsedMessage): ParsedDetail {
  return {
    cc: parsed.cc,
    bcc: parsed.bcc,
    replyTo: parsed.replyTo,
    messageIdHeader: parsed.messageIdHeader,
    dateHeaderMs: parsed.dateHeaderMs,
    headers: parsed.headers,
    attachments: parsed.attachments,
    ...(parsed.bodyParsed === false ? { bodyParsed: false } : {}),
  };
}

export function toSummary(row: SummaryRow): MessageSummary {
  return {
    id: row.id,
    receivedAtMs: row.received_at_ms,
    subject: row.subject,
    from: row.from_json === null ? null : (JSON.parse(row.from_json) as MessageAddress),
    to: JSON.parse(row.to_json) as MessageAddress[],
    envelopeFrom: row.envelope_from,
    envelopeTo: JSON.parse(row.envelope_to_json) as string[],
    sizeBytes: row.size_bytes,
    isRead: row.is_read === 1,
    attachmentCount: row.attachment_count,
    snippet: row.snippet,
    isParsed: row.is_parsed === 1,
    tags: JSON.parse(row.tags_json) as string[],
  };
}
