import type { CompanionRow } from '../spool/message-repository.js';
import type { CheckResult } from './inbound-checks.js';
import type { DeliveryTarget } from './recipient-resolver.js';

/**
 * What the MX received (GET /api/v1/inbound): one record per message from an `mx` listener, written
 * in the message's own transaction (a companion row), so a message in the queue always has its
 * record. Where each recipient ended up is the queue's deliveries; the record keeps the expansion.
 */
export interface InboundRecord {
  readonly messageId: string;
  readonly receivedAtMs: number;
  readonly client: {
    readonly address: string;
    readonly helo: string;
    readonly tls: { readonly protocol: string; readonly cipher: string } | null;
  };
  /** The reverse-path; "" for `<>`. */
  readonly sender: string;
  /** Each RCPT as given, with the mailboxes and forward addresses it expanded to. */
  readonly recipients: readonly { readonly recipient: string; readonly targets: readonly DeliveryTarget[] }[];
  /** What the inbound checks found (empty until checks are plugged in). */
  readonly checks: readonly CheckResult[];
}

export interface InboundPageQuery {
  readonly limit: number;
  /** Records received before this one (keyset paging, newest first). */
  readonly before?: { readonly receivedAtMs: number; readonly messageId: string };
}

export interface InboundLog {
  list(query: InboundPageQuery): Promise<InboundRecord[]>;
  get(messageId: string): Promise<InboundRecord | null>;
}

/** A row of the `inbound_messages` table, as SQLite and PostgreSQL store it. */
export interface InboundRow {
  readonly message_id: string;
  readonly received_at_ms: number;
  readonly client_json: string;
  readonly sender: string;
  readonly recipients_json: string;
  readonly checks_json: string;
}

export function inboundRecordOf(row: InboundRow): InboundRecord {
  return {
    messageId: row.message_id,
    receivedAtMs: row.received_at_ms,
    client: JSON.parse(row.client_json) as InboundRecord['client'],
    sender: row.sender,
    recipients: JSON.parse(row.recipients_json) as InboundRecord['recipients'],
    checks: JSON.parse(row.checks_json) as InboundRecord['checks'],
  };
}

/** The record as a row of the `inbound_messages` table, committed with the message. */
export function inboundRecordRow(record: InboundRecord): CompanionRow {
  return {
    table: 'inbound_messages',
    values: {
      message_id: record.messageId,
      received_at_ms: record.receivedAtMs,
      client_json: JSON.stringify(record.client),
      sender: record.sender,
      recipients_json: JSON.stringify(record.recipients),
      checks_json: JSON.stringify(record.checks),
    },
  };
}
