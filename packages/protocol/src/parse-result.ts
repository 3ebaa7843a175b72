import type { Reply } from './reply/reply.js';

/** The outcome of parsing peer input: a value, or the reply to send back. Peer input never throws. */
export type ParseResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly reply: Reply };
