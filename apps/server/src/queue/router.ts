import type { CompanionRow, StoredEnvelope } from '../spool/message-repository.js';
import {
  type RecipientParameters,
  serializeNotify,
  serializeOriginalRecipient,
} from './recipient-parameters.js';

/**
 * The router (GUIDE §2.8): where each recipient of an accepted message goes. A recipient is
 * delivered to its domain, or, when the caller expanded it (inbound/recipient-resolver.ts: aliases,
 * sub-addresses, forwards), to each of its targets with the sender given for it (SRS for forwards);
 * the scheduler later sends local domains to the local transport. The result is one `deliveries` row per recipient, committed as companion rows of the message so
 * that the 250 is sent only once the message and its deliveries are on disk. Pure.
 */
export interface RouteRequest {
  readonly messageId: string;
  readonly receivedAtMs: number;
  readonly envelope: StoredEnvelope;
  /** NOTIFY and ORCPT per recipient, in the order of `envelope.to`; absent entries have none. */
  readonly recipientParameters?: readonly (RecipientParameters | undefined)[];
  /** Our own domain: `<Postmaster>` without a domain (RFC 5321 §4.1.1.3) is delivered there. */
  readonly postmasterDomain: string;
  /** When the deliveries are first due (default: at once). */
  readonly dueAtMs?: number;
  /** Per recipient, in the order of `envelope.to`: where it really goes; absent entries go as addressed. */
  readonly recipientTargets?: readonly (readonly RecipientTarget[] | undefined)[];
}

/** One delivery an envelope recipient expands to, with the envelope sender to use for it. */
export interface RecipientTarget {
  readonly recipient: string;
  /** "" for the null sender. */
  readonly sender: string;
}

export interface RoutedRecipient {
  readonly recipient: string;
  readonly domain: string;
}

/** The domain mail for `recipient` goes to: the part after the last @, lower-case. */
export function routeRecipient(recipient: string, postmasterDomain: string): RoutedRecipient {
  if (recipient.toLowerCase() === 'postmaster')
    return { recipient: `postmaster@${postmasterDomain}`, domain: postmasterDomain.toLowerCase() };
  const at = recipient.lastIndexOf('@');
  // A domain literal ([192.0.2.1]) keeps its brackets: it is the destination as written.
  return { recipient, domain: recipient.slice(at + 1).toLowerCase() };
}

/** One `deliveries` row per recipient (a recipient given twice is delivered once). */
export function deliveryRows(request: RouteRequest): CompanionRow[] {
  const seen = new Set<string>();
  const rows: CompanionRow[] = [];
  for (const [index, address] of request.envelope.to.entries()) {
    const targets = request.recipientTargets?.[index] ?? [
      { recipient: address, sender: request.envelope.from },
    ];
    const parameters = request.recipientParameters?.[index];
    for (const target of targets) {
      const routed = routeRecipient(target.recipient, request.postmasterDomain);
      const key = routed.recipient.toLowerCase();
      if (seen.has(key)) continue;
      seen.add(key);
      rows.push({
        table: 'deliveries',
        values: {
          message_id: request.messageId,
          sender: target.sender,
          recipient: routed.recipient,
          domain: routed.domain,
          notify: serializeNotify(parameters?.notify),
          orcpt: serializeOriginalRecipient(parameters?.orcpt),
          arrived_at_ms: request.receivedAtMs,
          status: 'queued',
          due_at_ms: request.dueAtMs ?? request.receivedAtMs,
          changed_at_ms: request.receivedAtMs,
        },
      });
    }
  }
  return rows;
}
