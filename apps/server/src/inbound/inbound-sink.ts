import type { AcceptedMessage, AcceptedMessageSink } from '../listeners/accepted-message-sink.js';
import type { RecipientTarget } from '../queue/router.js';
import type { ForwardArcSealer } from './forward-arc-sealer.js';
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
  /** Seals received mail that goes on to an external address with our ARC set; absent: not sealed. */
  readonly sealForward?: ForwardArcSealer;
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
      const isForwarded = expansions.some((targets) => targets?.some((target) => target.kind === 'forward'));
      // The message is stored once for all its deliveries: local copies carry the seal too.
      const source =
        isForwarded && options.sealForward !== undefined
          ? oneChunk(await options.sealForward(await drain(message.source), message.inbound.checks, nowMs))
          : message.source;
      await options.received.accept({
        ...routed,
        source,
        companionRows: [...(message.companionRows ?? []), record],
      });
    },
  };
}

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1);
}

async function drain(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of source) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function* oneChunk(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}
