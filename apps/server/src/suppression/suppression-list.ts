import type { AttemptRecord } from '../queue/delivery-queue.js';

/** A recipient that failed permanently at its mailbox: later mail to it is refused at RCPT. */
export interface Suppression {
  /** Local part as given, domain lower-cased (suppressionAddress). */
  readonly address: string;
  /** The remote's reply (code, status, text) that failed it. */
  readonly reason: string;
  readonly createdAtMs: number;
  /** The queued message and delivery whose failure added it; null for an operator's entry. */
  readonly messageId: string | null;
  readonly deliveryId: number | null;
}

export interface SuppressionPageQuery {
  readonly limit: number;
  /** Entries created before this one (newest first); none for the first page. */
  readonly before?: { readonly createdAtMs: number; readonly address: string };
}

/** The suppression list: the outcomes add to it, the listeners read it, the API lists and removes. */
export interface SuppressionList {
  /** Keeps the first entry for an address: a later failure does not move its date. */
  add(suppression: Suppression): Promise<void>;
  find(address: string): Promise<Suppression | null>;
  /** Newest first. */
  list(query: SuppressionPageQuery): Promise<Suppression[]>;
  /** True when the address was suppressed. */
  remove(address: string): Promise<boolean>;
}

/** Domains are case-insensitive (RFC 5321 §2.4), local parts are not: the key keeps the local part as given. */
export function suppressionAddress(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 ? address : `${address.slice(0, at)}@${address.slice(at + 1).toLowerCase()}`;
}

/**
 * RFC 3463 §3.2 address details that say the mailbox itself is bad: 1.1 bad mailbox, 1.2 bad
 * destination system, 1.3 bad mailbox syntax, 1.6 mailbox moved, 1.10 null MX (RFC 7505 §4.1).
 * 1.7/1.8 are about the sender; 5.7.x is policy and says nothing about the mailbox.
 */
const badMailboxStatuses: ReadonlySet<string> = new Set(['5.1.1', '5.1.2', '5.1.3', '5.1.6', '5.1.10']);

/**
 * Whether a failed attempt proves the recipient's address bad: a remote MX's refusal (mxHost set),
 * not one our transport made up (a domain that does not resolve may be registered tomorrow).
 */
export function isSuppressingFailure(attempt: AttemptRecord): boolean {
  return (
    attempt.outcome === 'failed' &&
    attempt.reply !== null &&
    attempt.mxHost !== null &&
    (attempt.rule === 'permanent' || attempt.rule === 'unknown-user-temporary') &&
    badMailboxStatuses.has(attempt.status)
  );
}
