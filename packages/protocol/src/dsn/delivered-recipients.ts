import type { Domain, ReversePath } from '../address/mailbox.js';
import type { Recipient } from '../server/server-events.js';
import type { DsnRecipient } from './dsn-types.js';
import { dsnWanted } from './dsn-wanted.js';

/**
 * The recipients of a message delivered here (final delivery: a mailbox, a Maildir, a capture store)
 * whose sender asked to hear of it: the "delivered" groups of a success DSN (RFC 3461 §5.2.3), one per
 * recipient with NOTIFY containing SUCCESS, in RCPT order, each with its ORCPT. Empty for `<>` or when
 * nobody asked: then no report is owed. `RCPT TO:<Postmaster>` is reported as postmaster@`ourDomain`.
 */
export function deliveredRecipients(
  reversePath: ReversePath,
  recipients: readonly Recipient[],
  ourDomain: Domain,
): DsnRecipient[] {
  return recipients
    .filter((recipient) => dsnWanted(recipient.parameters.notify, 'delivered', reversePath))
    .map((recipient) => ({
      finalRecipient:
        recipient.to === 'Postmaster' ? { localPart: 'postmaster', domain: ourDomain } : recipient.to,
      ...(recipient.parameters.orcpt === undefined ? {} : { originalRecipient: recipient.parameters.orcpt }),
      action: 'delivered',
      status: '2.0.0',
    }));
}
