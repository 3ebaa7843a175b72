import { MailboxQueryError } from './mailbox-query-error.js';

const maxPageSize = 500;
const defaultPageSize = 50;

/** The page size a list asks for, clamped to 1..500 (default 50). */
export function pageSizeOf(limit: number | undefined): number {
  return Math.min(Math.max(Math.trunc(limit ?? defaultPageSize), 1), maxPageSize);
}

/** The opaque keyset cursor of a page: the sequence number of its last (oldest) message. */
export function encodePageCursor(seq: number): string {
  return Buffer.from(`s${seq}`).toString('base64url');
}

/** The sequence number a cursor names; MailboxQueryError when it is not one of ours. */
export function decodePageCursor(cursor: string): number {
  const decoded = Buffer.from(cursor, 'base64url').toString('latin1');
  const match = /^s(\d{1,15})$/.exec(decoded);
  if (match === null) throw new MailboxQueryError('Invalid cursor');
  return Number(match[1]);
}
