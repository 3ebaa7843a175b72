import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { parseDuration } from './parse-duration.js';

/**
 * The `mta.inboundChecks` section: what the mx listener checks before it takes a message
 * (inbound/checks/). Every key has a default an MX operator can start with; DNS lists are empty
 * because the public ones need an agreement (and refuse queries through public resolvers).
 */
const duration = z.union([z.string(), z.number()]).transform((value, context) => {
  const durationMs = parseDuration(value);
  if (durationMs === null) {
    context.addIssue({
      code: 'custom',
      message: 'expected a duration such as "300s", "5m", "2d" or milliseconds',
    });
    return z.NEVER;
  }
  return durationMs;
});

const cidr = z.string().refine((text) => ipaddr.isValid(text) || ipaddr.isValidCIDR(text), {
  message: 'expected an IPv4/IPv6 address or CIDR range such as 192.0.2.0/24',
});

const domain = z
  .string()
  .regex(/^[^\s@*]+$/, 'expected a domain such as example.com')
  .transform((name) => name.toLowerCase().replace(/\.$/, ''));

/** `alice@example.com` or a whole domain `example.com`. */
const senderPattern = z
  .string()
  .regex(/^([^\s@]+@)?[^\s@*]+$/, 'expected an address (alice@example.com) or a domain')
  .transform((pattern) => pattern.toLowerCase());

const listZone = z.strictObject({
  /** The list's DNS zone, e.g. zen.spamhaus.org (RFC 5782 §2). */
  zone: domain,
  /** Added to the score when the client is listed (allow lists subtract it). Default 1. */
  weight: z.number().min(0).default(1),
  /**
   * Only these answers count as listed (e.g. ["127.0.0.2", "127.0.0.4"]); default: any answer in
   * 127.0.0.0/8 except 127.0.0.1 and the 127.255.255.0/24 error answers.
   */
  answers: z.array(z.ipv4()).optional(),
});

export const inboundChecksSchema = z
  .strictObject({
    /** Our authserv-id in Authentication-Results (RFC 8601 §2.5). Default: mta.hostname. */
    authservId: z.string().min(1).optional(),
    /** Clients never checked (besides AUTH and the relay networks): DNS lists, greylisting, SPF. */
    trustedClients: z.array(cidr).default([]),
    spf: z
      .strictObject({
        enabled: z.boolean().default(true),
        /** Refuse MAIL FROM (550 5.7.23) when the sender's SPF record fails it. Default: leave it to DMARC. */
        rejectFail: z.boolean().default(false),
      })
      .prefault({}),
    dkim: z
      .strictObject({
        enabled: z.boolean().default(true),
        /** Shorter RSA keys fail (RFC 8301 §3.2: verifiers must accept 1024-4096 bits). */
        minKeyBits: z.number().int().min(512).default(1024),
      })
      .prefault({}),
    dmarc: z
      .strictObject({
        enabled: z.boolean().default(true),
        /** Apply the sender's p=/sp=: reject → 550 5.7.1, quarantine → Junk. false: only report. */
        enforce: z.boolean().default(true),
      })
      .prefault({}),
    arc: z
      .strictObject({
        enabled: z.boolean().default(true),
        /**
         * Sealers (ARC-Seal d=) whose passing chain overrides a DMARC failure, e.g. the mailing
         * lists you subscribe to (RFC 8617 §7.2: a local policy decision).
         */
        trustedSealers: z.array(domain).default([]),
      })
      .prefault({}),
    greylisting: z
      .strictObject({
        /** Off unless configured: it delays every new sender's first message by `delay`. */
        enabled: z.boolean().default(false),
        /** Postgrey's defaults (RFC 6647 §4.2 asks for no more than 5 minutes before a retry counts). */
        delay: duration.prefault('300s'),
        retryWindow: duration.prefault('2d'),
        maxAge: duration.prefault('35d'),
        /** A client whose retries passed this many times is no longer greylisted; 0: never. */
        autoWhitelistAfter: z.number().int().min(0).default(5),
        ipv4PrefixLength: z.number().int().min(8).max(32).default(24),
        ipv6PrefixLength: z.number().int().min(16).max(128).default(64),
        /** Senders (addresses or domains) and recipients never greylisted. */
        whitelistSenders: z.array(senderPattern).default([]),
        whitelistRecipients: z.array(senderPattern).default([]),
        /**
         * Domains whose mail skips greylisting when it proves it comes from them (DKIM or SPF
         * aligned with the From domain, as DMARC judges); their mail is judged after DATA.
         */
        knownGoodDomains: z.array(domain).default([]),
      })
      .prefault({}),
    dnsLists: z
      .strictObject({
        /** DNSBLs (RFC 5782): a client whose weights reach `threshold` gets 554 5.7.1 naming the list. */
        blockLists: z.array(listZone).default([]),
        /** DNSWLs: their weights are subtracted; a listed client also skips greylisting. */
        allowLists: z.array(listZone).default([]),
        threshold: z.number().min(0).default(1),
        /** A list that does not answer in time counts as not listing the client. */
        timeout: duration.prefault('3s'),
      })
      .prefault({}),
    connection: z
      .strictObject({
        /**
         * Wait this long before the greeting and refuse clients that talk first (554, RFC 5321
         * §3.1, §4.3.1); 0 = off. 5s catches most spam engines, costs every sender that wait.
         */
        greetingDelay: duration.prefault(0),
        /** Tarpitting: each refusal after the first waits `delay` more, at most `maxDelay`; 0 = off. */
        tarpitDelay: duration.prefault(0),
        tarpitMaxDelay: duration.prefault('10s'),
        /**
         * Messages (MAIL commands) a minute from one client address, an IPv6 client counted by its
         * /64; over it MAIL gets 450 4.7.1. Clients in mta.relayNetworks and authenticated ones are
         * not counted. 0 = no limit.
         */
        maxMessagesPerMinutePerIp: z.int().min(0).default(0),
      })
      .prefault({}),
  })
  .prefault({});

export type InboundChecksConfig = z.output<typeof inboundChecksSchema>;
export type DnsListZoneConfig = InboundChecksConfig['dnsLists']['blockLists'][number];
