import type { ReceivedWithProtocol } from '@smtp/protocol';

/**
 * Storage behind an interface: SQLite is the embedded default (sqlite-store.ts); the MTA mode's
 * PostgreSQL store for several nodes implements the same contract. Every method is async so a
 * networked store fits without changing callers.
 */

/** An address as it appears in a header, parsed. */
export interface MessageAddress {
  readonly name: string;
  readonly address: string;
}

/** The SMTP envelope: what the client said in MAIL FROM / RCPT TO, not what the headers claim. */
export interface StoredEnvelope {
  /** The reverse-path; "" for the null sender `<>`. */
  readonly from: string;
  readonly to: readonly string[];
  /** ESMTP parameters of MAIL FROM as sent (SIZE, BODY, SMTPUTF8, ...). */
  readonly mailParameters: Readonly<Record<string, string>>;
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

export interface AttachmentMetadata {
  /** Position among the message's attachments; the key used by the download API. */
  readonly index: number;
  readonly filename: string | null;
  readonly contentType: string;
  readonly disposition: 'attachment' | 'inline' | null;
  readonly contentId: string | null;
  readonly sizeBytes: number;
}

export interface MessageHeader {
  readonly name: string;
  readonly value: string;
}

/**
 * What must be durable before the 250: the bytes, the envelope and the session. Everything else is
 * derived from these and can be derived again (see ParsedContent).
 */
export interface ReceivedMessage {
  readonly id: string;
  readonly receivedAtMs: number;
  readonly envelope: StoredEnvelope;
  readonly session: SmtpSessionDetails | null;
  /** The message exactly as received after dot-unstuffing: the source of truth. */
  readonly raw: Uint8Array;
}

/** What parsing derives from the raw bytes: headers, bodies, attachment metadata. */
export interface ParsedContent {
  readonly subject: string;
  readonly from: MessageAddress | null;
  readonly to: readonly MessageAddress[];
  readonly cc: readonly MessageAddress[];
  readonly bcc: readonly MessageAddress[];
  readonly replyTo: readonly MessageAddress[];
  readonly messageIdHeader: string | null;
  /** The Date header in ms since the epoch, null when absent or unparsable. */
  readonly dateHeaderMs: number | null;
  readonly headers: readonly MessageHeader[];
  readonly text: string | null;
  readonly html: string | null;
  readonly attachments: readonly AttachmentMetadata[];
}

/** The parse of a message nothing could be read from. */
export const emptyParsedContent: ParsedContent = {
  subject: '',
  from: null,
  to: [],
  cc: [],
  bcc: [],
  replyTo: [],
  messageIdHeader: null,
  dateHeaderMs: null,
  headers: [],
  text: null,
  html: null,
  attachments: [],
};

/** A received message together with its parse, stored in one go (imports, tests). */
export interface NewMessage extends ReceivedMessage, ParsedContent {}

/** One row of the inbox list: cheap to load, no bodies. */
export interface MessageSummary {
  readonly id: string;
  readonly receivedAtMs: number;
  readonly subject: string;
  readonly from: MessageAddress | null;
  readonly to: readonly MessageAddress[];
  readonly envelopeFrom: string;
  readonly envelopeTo: readonly string[];
  readonly sizeBytes: number;
  readonly isRead: boolean;
  readonly attachmentCount: number;
  /** The first characters of the text body. */
  readonly snippet: string;
  /**
   * False between the commit of the raw bytes (the 250) and the end of parsing: subject, from, to,
   * snippet and attachments are still empty and the message is not searchable yet.
   */
  readonly isParsed: boolean;
}

/** A whole message: its inbox row, envelope and session, and the rest of its parse. */
export interface StoredMessage extends MessageSummary, Omit<ParsedContent, 'subject' | 'from' | 'to'> {
  readonly envelope: StoredEnvelope;
  readonly session: SmtpSessionDetails | null;
}

export interface ListQuery {
  /** Free text plus field filters: `from:`, `to:`, `subject:`, `is:read`, `is:unread`, `has:attachment`. */
  readonly search?: string;
  /** At most this many messages; the store clamps it to 1..500. */
  readonly limit?: number;
  /** Opaque keyset cursor from a previous page's `nextCursor`. */
  readonly cursor?: string;
}

export interface MessagePage {
  readonly messages: readonly MessageSummary[];
  /** Pass back as `cursor` for the next (older) page; null on the last page. */
  readonly nextCursor: string | null;
  /** Messages matching the query; for searches capped at `totalCap` (then `isTotalCapped`). */
  readonly total: number;
  readonly isTotalCapped: boolean;
}

export interface StoreStats {
  readonly messageCount: number;
  readonly unreadCount: number;
  /** Bytes of raw messages held. */
  readonly rawBytes: number;
  /** Size of the database files on disk (0 for stores that cannot tell). */
  readonly diskBytes: number;
}

export interface RetentionPolicy {
  /** Keep at most this many messages (oldest go first); 0 = no limit. */
  readonly maxMessages: number;
  /** Delete messages received longer ago than this; 0 = keep forever. */
  readonly maxAgeMs: number;
}

export interface Store {
  /**
   * Resolves once the raw bytes, envelope and session are durable: the caller may then send 250.
   * The message is listed with `isParsed: false` until indexReceived() or saveParsed() adds
   * what parsing derived.
   */
  insertReceived(message: ReceivedMessage): Promise<void>;
  /**
   * Parses a received message from its stored bytes and saves what parsing derived (saveParsed()):
   * the capture pipeline's index stage. Resolves with its summary, or null when it is gone (deleted
   * meanwhile) or was parsed already.
   */
  indexReceived(id: string): Promise<MessageSummary | null>;
  /**
   * Adds the parse of a received message (headers, addresses, attachment metadata, search index)
   * and returns its summary, or null when it is gone (deleted meanwhile) or was parsed already.
   * Need not be durable: a parse lost in a crash is redone from the raw bytes at startup
   * (listUnparsed()).
   */
  saveParsed(id: string, parsed: ParsedContent): Promise<MessageSummary | null>;
  /** Ids of stored messages whose parse is missing, oldest first (startup recovery). */
  listUnparsed(limit: number): Promise<readonly string[]>;
  /** Stores a message and its parse at once, durably. */
  insert(message: NewMessage): Promise<void>;
  list(query: ListQuery): Promise<MessagePage>;
  get(id: string): Promise<StoredMessage | null>;
  getRaw(id: string): Promise<Uint8Array | null>;
  /** What was received, without parsing anything: raw bytes, envelope, session (release, recovery). */
  getReceived(id: string): Promise<ReceivedMessage | null>;
  /** Returns the new state, or null when no such message. */
  setRead(id: string, isRead: boolean): Promise<boolean | null>;
  markAllRead(): Promise<number>;
  /** Returns whether a message was deleted. */
  delete(id: string): Promise<boolean>;
  /** Returns how many messages were deleted. */
  deleteAll(): Promise<number>;
  /** Applies the policy now; returns the ids deleted. */
  prune(policy: RetentionPolicy, nowMs: number): Promise<readonly string[]>;
  /** Cheap counts for every list response (stats() also sums sizes and reads the disk). */
  counts(): Promise<{ readonly messageCount: number; readonly unreadCount: number }>;
  stats(): Promise<StoreStats>;
  close(): Promise<void>;
}
