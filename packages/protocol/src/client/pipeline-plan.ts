// When may the client write its next command? RFC 2920 §3.1: with PIPELINING, RSET, MAIL and RCPT may
// appear anywhere in a group; EHLO, DATA, VRFY, EXPN, TURN, QUIT and NOOP only last, and so do commands of
// other extensions unless they say otherwise. RFC 3030 §4.2 lets BDAT chunks be pipelined, and message
// content may start a group (so RSET/MAIL/QUIT may follow "." or BDAT LAST). Without PIPELINING every
// command waits for the reply to the one before it (RFC 5321 §4.3: one command, one reply).

import type { PendingKind } from './client-transitions.js';

/** Kinds after which, with PIPELINING, more commands may follow before the reply arrives. */
const continuesGroup: ReadonlySet<PendingKind> = new Set<PendingKind>([
  'mail',
  'rcpt',
  'rset',
  'rset-silent',
  'bdat',
  'bdat-last',
  'data-end',
  'lmtp-result',
]);

/** Whether, with PIPELINING, a command may be written while a reply to `kind` is still outstanding. */
export function continuesPipelineGroup(kind: PendingKind): boolean {
  return continuesGroup.has(kind);
}

/**
 * How many of the `queued` commands may be written now, given the last reply still outstanding
 * (`lastInFlight`, null when none) and whether PIPELINING is in use. Commands leave in order, so the
 * answer is a prefix length.
 */
export function planWrites(
  queued: readonly { readonly kind: PendingKind }[],
  lastInFlight: PendingKind | null,
  isPipelining: boolean,
): number {
  let last = lastInFlight;
  let count = 0;
  for (const { kind } of queued) {
    if (last !== null && !(isPipelining && continuesGroup.has(last))) break;
    count += 1;
    last = kind;
  }
  return count;
}
