import type { ParseScope } from '../mime/parse-message.js';
import type { MessageAddress, ParsedMessage } from '../mime/parsed-message.js';
import type { ReceivedMessage, SmtpSessionDetails, StoredEnvelope } from '../spool/message-repository.js';

/**
 * The catcher's mailbox: an index over the spooled messages with what parsing derived, read flags,
 * search and retention. It is fed after the 250 (index()), so nothing here is on a client's
 * critical path; whatever it loses in a crash is derived again from the spool (listUnparsed()).
 */

/** A received message together with its parse, stored in one go (imports, tests, benchmarks). */
export interface NewMessage extends ReceivedMessage, ParsedMessage {}

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
  /** Its tags (capture/message-tags.ts), sorted case-insensitively. */
  readonly tags: readonly string[];
}

/** A tag in use and how many messages carry it. */
export interface TagUsage {
  readonly name: string;
  readonly messageCount: number;
}

/** Links between a message and the delivery reports (DSN, RFC 3464) captured for it. */
export interface MessageRelations {
  /** For a captured delivery report: the id of the message it reports on, while that is still held. */
  readonly dsnFor: string | null;
  /** The ids of the delivery reports captured for this message, oldest first. */
  readonly dsnReports: readonly string[];
}

/** A whole message: its inbox row, envelope and session, and the rest of its parse. */
export interface MailboxMessage extends MessageSummary, Omit<ParsedMessage, 'subject' | 'from' | 'to'> {
  readonly envelope: StoredEnvelope;
  readonly session: SmtpSessionDetails | null;
  readonly related: MessageRelations;
}

export interface ListQuery {
  /** Free text plus field filters: `from:`, `to:`, `subject:`, `tag:`, `is:read`, `is:unread`, `has:attachment`. */
  readonly search?: string;
  /** At most this many messages; the index clamps it to 1..500. */
  readonly limit?: number;
  /** Opaque keyset cursor from a previous page's `nextCursor`. */
  readonly cursor?: string;
}

export interface MessagePage {
  readonly messages: readonly MessageSummary[];
  /** Pass back as `cursor` for the next (older) page; null on the last page. */
  readonly nextCursor: string | null;
  /** Messages matching the query; for searches capped at a limit (then `isTotalCapped`). */
  readonly total: number;
  readonly isTotalCapped: boolean;
}

export interface MailboxCounts {
  readonly messageCount: number;
  readonly unreadCount: number;
}

export interface MailboxStats extends MailboxCounts {
  /** Bytes of raw messages held. */
  readonly rawBytes: number;
  /** Size of the database files on disk (0 for backends that cannot tell). */
  readonly diskBytes: number;
}

export interface RetentionPolicy {
  /** Keep at most this many messages (oldest go first); 0 = no limit. */
  readonly maxMessages: number;
  /** Delete messages received longer ago than this; 0 = keep forever. */
  readonly maxAgeMs: number;
}

/** list() rejects with MailboxQueryError (mailbox-query-error.ts) for a bad cursor or search. */
export interface MailboxIndex {
  /**
   * Parses a spooled message from its bytes (the parser port) and saves what parsing derived
   * (saveParsed()): the capture pipeline's index stage. Resolves with its summary, or null when
   * it is gone (deleted meanwhile) or was parsed already. `scope` 'headers' parses the header
   * section only (parseHeaderSection; default 'message': all of it).
   */
  index(id: string, scope?: ParseScope): Promise<MessageSummary | null>;
  /**
   * Adds the parse of a spooled message (headers, addresses, attachment metadata, search index)
   * and returns its summary, or null when it is gone or was parsed already. Need not be durable:
   * a parse lost in a crash is redone from the raw bytes at startup (listUnparsed()).
   */
  saveParsed(id: string, parsed: ParsedMessage): Promise<MessageSummary | null>;
  /** Ids of spooled messages whose parse is missing, oldest first (startup recovery). */
  listUnparsed(limit: number): Promise<readonly string[]>;
  /** Spools a message and indexes its parse at once, durably. */
  insert(message: NewMessage): Promise<void>;
  list(query: ListQuery): Promise<MessagePage>;
  get(id: string): Promise<MailboxMessage | null>;
  /** Returns the new state, or null when no such message. */
  setRead(id: string, isRead: boolean): Promise<boolean | null>;
  markAllRead(): Promise<number>;
  /** Deletes the message from the mailbox and the spool; returns whether there was one. */
  delete(id: string): Promise<boolean>;
  /** Returns how many messages were deleted. */
  deleteAll(): Promise<number>;
  /** Applies the policy now; returns the ids deleted. */
  prune(policy: RetentionPolicy, nowMs: number): Promise<readonly string[]>;
  /**
   * Replaces the message's tags with these (already normalized: message-tags.ts); returns its tags
   * as stored, sorted, or null when no such message. Tags differing only in ASCII case are one.
   */
  setTags(id: string, tags: readonly string[]): Promise<readonly string[] | null>;
  /** Adds tags (normalized) to the ones the message has; returns its tags, or null when no such message. */
  addTags(id: string, tags: readonly string[]): Promise<readonly string[] | null>;
  /** Every tag in use with its message count, sorted by name (case-insensitively). */
  listTags(): Promise<readonly TagUsage[]>;
  /**
   * Renames a tag on every message (merging into `to` where a message has both); returns how many
   * messages carried `from`.
   */
  renameTag(from: string, to: string): Promise<number>;
  /** Removes a tag from every message; returns how many carried it. */
  deleteTag(name: string): Promise<number>;
  /** Cheap counts for every list response (stats() also sums sizes and reads the disk). */
  counts(): Promise<MailboxCounts>;
  stats(): Promise<MailboxStats>;
}
