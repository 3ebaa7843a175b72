import { join } from 'node:path';
import type { InboundConfig } from '../config/inbound-schema.js';
import { type Clock, systemClock } from '../delivery/clock.js';
import type { DeliveryTransport } from '../delivery/transports/delivery-transport.js';
import { createLmtpTransport } from '../delivery/transports/lmtp-transport.js';
import { createMaildirTransport } from '../delivery/transports/maildir-transport.js';
import { type InboundChecks, noInboundChecks } from './inbound-checks.js';
import { createRecipientResolver, type RecipientResolver } from './recipient-resolver.js';
import { createSrs, type Srs } from './srs.js';

export interface InboundRoomOptions {
  readonly inbound: InboundConfig;
  /** mta.localDomains. */
  readonly localDomains: readonly string[];
  /** mta.hostname: the LHLO name and the Maildir file names' host. */
  readonly hostname: string;
  readonly dataDir: string;
  /** The authentication and anti-abuse checks for mx listeners; default none. */
  readonly checks?: InboundChecks;
  readonly clock?: Clock;
}

export interface InboundRoom {
  readonly resolver: RecipientResolver;
  readonly srs: Srs | null;
  readonly checks: InboundChecks;
  /** The local transport (Maildir or LMTP) and which destinations it takes. */
  readonly localDelivery: {
    readonly isLocal: (domain: string) => boolean;
    readonly transport: DeliveryTransport & { close?(): Promise<void> };
  };
}

/** The receiving side from the `inbound` section: who exists, SRS, and the local transport. */
export function createInboundRoom(options: InboundRoomOptions): InboundRoom {
  const { inbound } = options;
  const clock = options.clock ?? systemClock;
  const localDomains = new Set(options.localDomains.map((domain) => domain.toLowerCase()));
  const srs =
    inbound.srs === null
      ? null
      : createSrs({
          secret: inbound.srs.secret,
          domain: inbound.srs.domain ?? options.localDomains[0] ?? options.hostname,
          maxAgeDays: inbound.srs.maxAgeDays,
        });
  const resolver = createRecipientResolver({
    localDomains,
    mailboxes: new Set(inbound.mailboxes),
    aliases: new Map(Object.entries(inbound.aliases)),
    catchAll: new Map(Object.entries(inbound.catchAll)),
    subaddressSeparator: inbound.subaddressSeparator,
    srs,
  });
  /** A recipient's one mailbox (user+tag@ → user@, catch-all); null for aliases and unknown names. */
  const mailboxOf = (recipient: string): string | null => {
    const resolution = resolver.resolve(recipient, clock.now());
    if (resolution.kind !== 'local' || resolution.targets.length !== 1) return null;
    const [target] = resolution.targets;
    return target?.kind === 'mailbox' ? target.address : null;
  };
  const delivery = inbound.delivery;
  const transport =
    delivery.transport === 'lmtp'
      ? createLmtpTransport({
          host: delivery.host,
          port: delivery.port,
          hostname: options.hostname,
          clock,
          mailboxOf,
        })
      : createMaildirTransport({
          directory: delivery.directory ?? join(options.dataDir, 'maildir'),
          hostname: options.hostname,
          clock,
          mailboxOf,
        });
  return {
    resolver,
    srs,
    checks: options.checks ?? noInboundChecks,
    localDelivery: { isLocal: (domain) => localDomains.has(domain.toLowerCase()), transport },
  };
}
