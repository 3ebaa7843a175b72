import type { AcceptedMessage, AcceptedMessageSink } from '../listeners/accepted-message-sink.js';
import type { RecipientTarget } from '../queue/router.js';
import { inboundRecordRow } from './inbound-log.js';
import type { DeliveryTarget, RecipientResolver } from './recipient-resolver.js';
import type { Srs } from './srs.js';

export interface InboundSinkOptions {
  readonly resolver: RecipientResolver;
  /** Rewrites the sender of forwarded mail; null keeps it (the schema requires SRS for aliases that forward). */
  readonly srs: Srs | null;
  /** Mail an `mx` listener received from another MTA: straight to the queue, never signed as ours. */
  readonly received: AcceptedMessageSink;
  /** Mail our users submitted or relay clients sent (the DKIM signer in front of the queue). */
  readonly submitted: AcceptedMessageSink;
  /** The bare `<Postmaster>` (RFC 5321 §4.5.1) is postmaster@ this domain (the first local domain). */
  readonly postmasterDomain: string;
  readonly now?: () => number;
}

/**
 * The router's inbound half (GUIDE §2.8 "per recipient: local mailbox | remote domain"): each
 * recipient in a local domain is expanded to its mailboxes and forward addresses before the
 * deliveries are written, forwards leave with an SRS0 sender, and a message from an `mx` listener
 * gets its inbound record in the same transaction.
 */
export function createInboundSink(options: InboundSinkOptions): AcceptedMessageSink {
  const now = options.now ?? Date.now;
  return {
    async accept(message) {
      const nowMs = now();
      const sender = message.envelope.from;
      const forwardSender =
        sender === '' || options.srs === null || options.resolver.isLocalDomain(domainOf(sender))
          ? sender
          : options.srs.forward(sender, nowMs);
      const expansions = message.envelope.to.map((recipient) => {
        const address =
          recipient.toLowerCase() === 'postmaster' ? `postmaster@${options.postmasterDomain}` : recipient;
        const resolution = options.resolver.resolve(address, nowMs);
        return resolution.kind === 'local' ? resolution.targets : undefined;
      });
      const recipientTargets = expansions.map((targets) =>
        targets?.map(
          (target): RecipientTarget => ({
            recipient: target.address,
            sender: target.kind === 'forward' ? forwardSender : sender,
          }),
        ),
      );
      const routed: AcceptedMessage = { ...message, recipientTargets };
      if (message.inbound === undefined) {
        await options.submitted.accept(routed);
        return;
      }
      const record = inboundRecordRow({
        messageId: message.id,
        receivedAtMs: message.receivedAtMs,
        client: {
          address: message.session.remoteAddress,
          helo: message.session.helo,
          tls: message.session.tls,
        },
        sender,
        recipients: message.envelope.to.map((recipient, index) => ({
          recipient,
          targets:
            expansions[index] ?? ([{ kind: 'forward', address: recipient }] satisfies DeliveryTarget[]),
        })),
        checks: message.inbound.checks,
      });
      await options.received.accept({ ...routed, companionRows: [...(message.companionRows ?? []), record] });
    },
  };
}

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1);
}
