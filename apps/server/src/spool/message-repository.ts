import type { ReceivedWithProtocol } from '@smtp/protocol';
import type { MessageSource } from './read-message-source.js';

/**
 * The spool: the message repository, the only thing the 250 waits on. It keeps what cannot be
 * derived again (the bytes, the envelope, the session); parsing, indexing and delivery come after
 * the reply and are other rooms' work. Every method is async so a networked spool (PostgreSQL, for
 * the MTA mode's several nodes) fits without changing callers.
 */

/** The SMTP envelope: what the client said in MAIL FROM / RCPT TO, not what the headers claim. */
export interface StoredEnvelope {
  /** The reverse-path; "" for the null sender `<>`. */
  readonly from: string;
  readonly to: readonly string[];
  /** ESMTP parameters of MAIL FROM as sent (SIZE, BODY, SMTPUTF8, ...). */
  readonly mailParameters: Readonly<Record<string, string>>;
  /**
   * ESMTP parameters of each RCPT TO as sent (NOTIFY, ORCPT, ...), aligned with `to`. Messages stored
   * before they were kept read back with `{}` for each recipient (see sqlite-rows.ts parseDetail).
   */
  readonly rcptParameters: readonly Readonly<Record<string, string>>[];
}

/** Where the message came from: the SMTP session that delivered it. */
export interface SmtpSessionDetails {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  /** The EHLO/HELO name the client gave. */
  readonly helo: string;
  /** The Received line's WITH keyword (RFC 3848, RFC 6531): ESMTPSA, UTF8SMTPS, … */
  readonly protocol: ReceivedWithProtocol;
  readonly tls: { readonly protocol: string; readonly cipher: string } | null;
  readonly authenticatedUser: string | null;
}

/**
 * A row another room commits in the same transaction as the message, so that both exist or
 * neither does. Plain data (it crosses to the SQLite writer thread by structured clone); the table
 * is created by that room's schema migration.
 *
 * How the MTA's delivery queue plugs in: its router turns the envelope into one row per recipient,
 * e.g. `{ table: 'deliveries', values: { message_id, recipient, state: 'scheduled', due_at_ms } }`,
 * and the spool stage passes them as `receive(source, { ...receipt, companionRows })`. The 250 then
 * means "stored and queued" with one fsync; a crash can never leave a message without its
 * deliveries, nor deliveries without their message. The queue reads and leases those rows through
 * its own contract; the spool only writes them.
 */
export interface CompanionRow {
  /** A table name: letters, digits and underscores. */
  readonly table: string;
  /** Column name → value. */
  readonly values: Readonly<Record<string, string | number | null>>;
}

/** What the spool is told about a message besides its bytes. */
export interface Receipt {
  readonly id: string;
  readonly receivedAtMs: number;
  readonly envelope: StoredEnvelope;
  readonly session: SmtpSessionDetails | null;
  /** Rows committed with the message (none in capture mode; the MTA's deliveries). */
  readonly companionRows?: readonly CompanionRow[];
}

/** What is durable once receive() resolves: the bytes, the envelope and the session. */
export interface ReceivedMessage {
  readonly id: string;
  readonly receivedAtMs: number;
  readonly envelope: StoredEnvelope;
  readonly session: SmtpSessionDetails | null;
  /** The message exactly as received after dot-unstuffing: the source of truth. */
  readonly raw: Uint8Array;
}

export interface MessageRepository {
  /**
   * Reads the message to its end and resolves once it is durable (fsync'd, group-committed with
   * whatever arrived meanwhile) together with the receipt's companion rows: the caller may then
   * send 250. Rejects when the stream fails or the write does (the SMTP side answers 451).
   */
  receive(source: MessageSource, receipt: Receipt): Promise<ReceivedMessage>;
  /** What was received: raw bytes, envelope, session (release, recovery); null when gone. */
  getReceived(id: string): Promise<ReceivedMessage | null>;
  /** The raw bytes alone; null when gone. */
  getRaw(id: string): Promise<Uint8Array | null>;
}
