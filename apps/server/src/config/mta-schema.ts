import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { isPasswordHash } from '../accounts/password-hash.js';
import { deliverySchemaShape } from './delivery-schema.js';
import { inboundChecksSchema } from './inbound-checks-schema.js';

/** What a listener is for; the role picks the policy (GUIDE §2.8). */
export const mtaListenerRoles = ['submission', 'submissions', 'relay', 'mx'] as const;
export type MtaListenerRole = (typeof mtaListenerRoles)[number];

/**
 * RFC 6409 §3.1 submission 587 (STARTTLS), RFC 8314 §3.3 submissions 465 (implicit TLS), RFC 5321
 * relay and mx (RFC 5321 §4.5.4: mail between MTAs) on 25. Production ports; tests and unprivileged setups set their own.
 */
const defaultPorts: Readonly<Record<MtaListenerRole, number>> = {
  submission: 587,
  submissions: 465,
  relay: 25,
  mx: 25,
};

const port = z.number().int().min(0).max(65_535);
const domain = z
  .string()
  .regex(/^[^\s@*]+\.[^\s@*]+$|^[^\s@*.]+$/, 'expected a domain such as example.com')
  .transform((name) => name.toLowerCase());

/** `alice@example.com`, or `*@example.com` for every address at a domain. */
const addressPattern = z
  .string()
  .regex(/^(\*|[^\s@*]+)@[^\s@*]+$/, 'expected an address (alice@example.com) or *@domain')
  .transform((pattern) => pattern.toLowerCase());

const cidr = z.string().refine((text) => ipaddr.isValid(text) || ipaddr.isValidCIDR(text), {
  message: 'expected an IPv4/IPv6 address or CIDR range such as 192.0.2.0/24 or 2001:db8::/32',
});

const password = z
  .string()
  .min(1)
  .refine((text) => !text.startsWith('scrypt$') || isPasswordHash(text), {
    message: 'starts with scrypt$ but is not a hash from `smtp-app hash-password`',
  });

const mtaUser = z.strictObject({
  username: z.string().min(1),
  /** A hash from `smtp-app hash-password` (scrypt$…), or the password itself (warned about at start). */
  password,
  /** Envelope senders and From addresses this user may use. Default: the username, if it is an address. */
  addresses: z.array(addressPattern).optional(),
  /** Overrides mta.dailyMessageLimit for this user. */
  dailyMessageLimit: z.number().int().min(0).optional(),
});

const listener = z
  .strictObject({
    role: z.enum(mtaListenerRoles),
    host: z.string().min(1).default('0.0.0.0'),
    /** Default by role: submission 587, submissions 465, relay 25, mx 25. */
    port: port.optional(),
  })
  .transform((value) => ({ ...value, port: value.port ?? defaultPorts[value.role] }));

/** The `mta` section: used when `mode: mta`. */
export const mtaSchema = z
  .strictObject({
    /** Our name in greetings, Received lines and generated Message-IDs. Required in mta mode. */
    hostname: z.string().min(1).optional(),
    /** Domains we accept mail for and (later) sign; recipients elsewhere need AUTH or a relay network. */
    localDomains: z.array(domain).default([]),
    users: z.array(mtaUser).default([]),
    /** own-addresses: a user sends only as its addresses (RFC 6409 §6.1); any: as anyone. */
    senderPolicy: z.enum(['own-addresses', 'any']).default('own-addresses'),
    /** Messages a user may submit per UTC day; 0 = no limit. */
    dailyMessageLimit: z.number().int().min(0).default(1000),
    /** Clients that may relay without AUTH on a relay listener (CIDR, IPv4 and IPv6). */
    relayNetworks: z.array(cidr).default([]),
    /**
     * Whether the web inbox parses each message's body at receive (search by body text, snippets,
     * attachment counts in the list), as capture mode does. Off: only the header section is parsed,
     * and the body when a message is opened; that parse is most of what an MTA spends per message.
     */
    indexBodies: z.boolean().default(false),
    listeners: z
      .array(listener)
      .min(1)
      .prefault([{ role: 'submission' }, { role: 'submissions' }]),
    tls: z
      .strictObject({
        /** PEM files; when absent a self-signed certificate for mta.hostname goes to <dataDir>/tls. */
        certFile: z.string().min(1).optional(),
        keyFile: z.string().min(1).optional(),
      })
      .prefault({}),
    /** What the mx listener checks: SPF, DKIM, DMARC, ARC, greylisting, DNS lists (inbound-checks-schema.ts). */
    inboundChecks: inboundChecksSchema,
    // How accepted mail leaves: DNS servers, routes, smarthost, retry schedule (delivery-schema.ts).
    ...deliverySchemaShape,
  })
  .prefault({});

/** Checks that need the mode as well as the mta section; run by the root schema. */
export function checkMtaMode(
  config: { readonly mode: 'capture' | 'mta'; readonly mta: z.output<typeof mtaSchema> },
  context: z.RefinementCtx,
): void {
  if (config.mode !== 'mta') return;
  if (config.mta.hostname === undefined) {
    context.addIssue({
      code: 'custom',
      path: ['mta', 'hostname'],
      message: 'required when mode is mta: the name in greetings, Received lines and Message-IDs',
    });
  }
  if ((config.mta.tls.certFile === undefined) !== (config.mta.tls.keyFile === undefined)) {
    context.addIssue({
      code: 'custom',
      path: ['mta', 'tls'],
      message: 'certFile and keyFile must be set together',
    });
  }
}

export type MtaConfig = z.output<typeof mtaSchema>;
export type MtaUserConfig = MtaConfig['users'][number];
export type MtaListenerConfig = MtaConfig['listeners'][number];
