import type { CompanionRow, StoredEnvelope } from '../spool/message-repository.js';
import {
  type RecipientParameters,
  serializeNotify,
  serializeOriginalRecipient,
} from './recipient-parameters.js';

/**
 * The router (GUIDE §2.8): where each recipient of an accepted message goes. Today every recipient
 * is a remote domain delivered over SMTP (local mailboxes come with the LMTP/maildir transports);
 * the result is one `deliveries` row per recipient, committed as companion rows of the message so
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
    const routed = routeRecipient(address, request.postmasterDomain);
    const key = routed.recipient.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    const parameters = request.recipientParameters?.[index];
    rows.push({
      table: 'deliveries',
      values: {
        message_id: request.messageId,
        sender: request.envelope.from,
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
  return rows;
}
