import { z } from 'zod';

/**
 * The `inbound` section: what the MX side (listener role `mx`) receives for mta.localDomains and
 * where it delivers. Absent (null) means no local delivery: local domains are routed like any other.
 */
const address = z
  .string()
  .regex(/^[^\s@]+@[^\s@]+\.?[^\s@]*$/, 'expected an address such as alice@example.com')
  .transform((value) => value.toLowerCase());

const domain = z
  .string()
  .regex(/^[^\s@*]+$/, 'expected a domain such as example.com')
  .transform((value) => value.toLowerCase());

const delivery = z.discriminatedUnion('transport', [
  z.strictObject({
    transport: z.literal('maildir'),
    /** Maildirs live at <directory>/<domain>/<local part>/ (tmp, new, cur). Default <dataDir>/maildir. */
    directory: z.string().min(1).optional(),
  }),
  z.strictObject({
    transport: z.literal('lmtp'),
    /** A mailbox server speaking LMTP (RFC 2033), e.g. Dovecot's lmtp service. */
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(1).max(65_535).default(24),
  }),
]);

export const inboundSchema = z
  .strictObject({
    /** Mailboxes that exist, as addresses in mta.localDomains. Anything else gets 550 5.1.1 at RCPT. */
    mailboxes: z.array(address).default([]),
    /** Address → addresses (local mailboxes, other aliases, or external addresses: forwarded). */
    aliases: z.record(address, z.array(address).min(1)).default({}),
    /** Per domain: where mail for an otherwise unknown local part goes. */
    catchAll: z.record(domain, address).default({}),
    /** `user+tag@` is delivered to `user@` (RFC 5233 sub-addressing); null turns it off. */
    subaddressSeparator: z.string().length(1).nullable().default('+'),
    delivery: delivery.prefault({ transport: 'maildir' }),
    /**
     * Sender Rewriting Scheme for mail forwarded to external addresses, so the forward passes the
     * destination's SPF check. Required when an alias forwards outside mta.localDomains.
     */
    srs: z
      .strictObject({
        /** HMAC key of the SRS hash (keep it secret and stable: bounces to old addresses need it). */
        secret: z.string().min(16),
        /**
         * The rewritten senders' domain: one of mta.localDomains (we must accept the bounces) whose SPF
         * record names this server. Default: the first of mta.localDomains.
         */
        domain: domain.optional(),
        /** Bounces to rewritten addresses older than this many days are refused. Default 21. */
        maxAgeDays: z.number().int().min(1).max(1000).default(21),
      })
      .nullable()
      .default(null),
  })
  .nullable()
  .default(null);

export type InboundConfig = NonNullable<z.output<typeof inboundSchema>>;

/** Checks across sections: every address the inbound section delivers to is in mta.localDomains. */
export function checkInbound(
  config: {
    readonly inbound: z.output<typeof inboundSchema>;
    readonly mta: {
      readonly localDomains: readonly string[];
      readonly listeners: readonly { readonly role: string }[];
    };
  },
  context: z.RefinementCtx,
): void {
  const inbound = config.inbound;
  if (inbound === null) {
    const mxIndex = config.mta.listeners.findIndex((listener) => listener.role === 'mx');
    if (mxIndex !== -1)
      context.addIssue({
        code: 'custom',
        path: ['mta', 'listeners', mxIndex],
        message: 'an mx listener needs the inbound section: the mailboxes it accepts mail for',
      });
    return;
  }
  const localDomains = new Set(config.mta.localDomains);
  const isLocal = (value: string) => localDomains.has(value.slice(value.lastIndexOf('@') + 1));
  for (const [index, mailbox] of inbound.mailboxes.entries()) {
    if (!isLocal(mailbox))
      context.addIssue({
        code: 'custom',
        path: ['inbound', 'mailboxes', index],
        message: `${mailbox} is not in mta.localDomains`,
      });
  }
  for (const alias of Object.keys(inbound.aliases)) {
    if (!isLocal(alias))
      context.addIssue({
        code: 'custom',
        path: ['inbound', 'aliases', alias],
        message: `${alias} is not in mta.localDomains`,
      });
  }
  for (const catchAllDomain of Object.keys(inbound.catchAll)) {
    if (!localDomains.has(catchAllDomain))
      context.addIssue({
        code: 'custom',
        path: ['inbound', 'catchAll', catchAllDomain],
        message: `${catchAllDomain} is not in mta.localDomains`,
      });
  }
  if (inbound.srs?.domain !== undefined && !localDomains.has(inbound.srs.domain))
    context.addIssue({
      code: 'custom',
      path: ['inbound', 'srs', 'domain'],
      message: `${inbound.srs.domain} is not in mta.localDomains: bounces to rewritten senders must reach us`,
    });
  if (inbound.srs !== null && localDomains.size === 0)
    context.addIssue({
      code: 'custom',
      path: ['inbound', 'srs'],
      message: 'SRS needs a domain in mta.localDomains',
    });
  const forwards = Object.values(inbound.aliases)
    .flat()
    .filter((target) => !isLocal(target));
  if (forwards.length > 0 && inbound.srs === null)
    context.addIssue({
      code: 'custom',
      path: ['inbound', 'srs'],
      message: `aliases forward to ${forwards[0]}: set inbound.srs.secret so forwarded mail passes SPF (SRS0)`,
    });
}
