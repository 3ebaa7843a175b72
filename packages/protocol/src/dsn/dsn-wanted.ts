import type { ReversePath } from '../address/mailbox.js';
import type { DsnNotify } from '../command/command.js';
import type { DsnAction } from './dsn-types.js';

/**
 * Whether a recipient's outcome owes its sender a DSN (RFC 3461 §4.1, §5.2):
 * - never to the null reverse-path `<>` (RFC 5321 §4.5.5: never bounce a bounce);
 * - `NOTIFY=NEVER` never; otherwise the outcome's keyword must be listed:
 *   failed → FAILURE, delayed → DELAY, delivered | relayed | expanded → SUCCESS;
 * - without NOTIFY the recipient gets failures and delays: §4.1 lets an MTA read its absence as
 *   FAILURE or FAILURE,DELAY, and a sender whose mail sits in a queue for hours is better told.
 *   (§5.2.6 (c): a failure without NOTIFY MUST be reported.)
 */
export function dsnWanted(
  notify: DsnNotify | undefined,
  action: DsnAction,
  reversePath: ReversePath,
): boolean {
  if (reversePath === null || notify === 'NEVER') return false;
  const keyword = action === 'failed' ? 'FAILURE' : action === 'delayed' ? 'DELAY' : 'SUCCESS';
  if (notify === undefined) return keyword !== 'SUCCESS';
  return notify.includes(keyword);
}
