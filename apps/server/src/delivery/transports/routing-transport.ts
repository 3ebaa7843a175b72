import type { LeasedDelivery } from '../../queue/delivery-queue.js';
import type { SessionResult } from '../destination-window.js';
import type { DeliveryTransport, RecipientAttempt } from './delivery-transport.js';

export interface RoutingTransportOptions {
  /** Whether a destination domain is delivered locally (mta.localDomains with an inbound section). */
  readonly isLocal: (domain: string) => boolean;
  /** Maildir or LMTP. */
  readonly local: DeliveryTransport;
  readonly remote: DeliveryTransport;
}

/**
 * Picks the transport per destination (GUIDE §2.8 "transports: remote, lmtp, maildir"): local
 * domains go to the mailboxes, the rest over SMTP. A delivery's own sender is the MAIL FROM it
 * leaves with: forwards carry their SRS0 sender while the message keeps its original envelope.
 */
export function createRoutingTransport(options: RoutingTransportOptions): DeliveryTransport {
  return {
    async send(job, signal) {
      if (options.isLocal(job.domain)) return options.local.send(job, signal);
      const bySender = new Map<string, LeasedDelivery[]>();
      for (const delivery of job.deliveries) {
        const group = bySender.get(delivery.sender) ?? [];
        group.push(delivery);
        bySender.set(delivery.sender, group);
      }
      const recipients: RecipientAttempt[] = [];
      const sessions: SessionResult[] = [];
      for (const [sender, deliveries] of bySender) {
        const result = await options.remote.send(
          { ...job, envelope: { ...job.envelope, from: sender }, deliveries },
          signal,
        );
        recipients.push(...result.recipients);
        sessions.push(result.session);
      }
      return { recipients, session: combined(sessions) };
    },
  };
}

/** One session result for the destination window: success if any succeeded. */
function combined(sessions: readonly SessionResult[]): SessionResult {
  for (const result of ['success', 'throttled', 'connection-failure'] as const)
    if (sessions.includes(result)) return result;
  return 'other';
}
