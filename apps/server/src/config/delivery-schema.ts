import { isIP } from 'node:net';
import { z } from 'zod';
import { defaultRetryPolicy, type RetryPolicy, validateRetryPolicy } from '../queue/retry-policy.js';
import { parseDuration } from './parse-duration.js';

/**
 * The delivery keys of the `mta` section (spread into it): how outbound mail leaves. Everything
 * has a production default; tests set `dnsServers`, `transports` and `deliveryPort`.
 */
const duration = z.union([z.string(), z.number()]).transform((value, context) => {
  const durationMs = parseDuration(value);
  if (durationMs === null) {
    context.addIssue({
      code: 'custom',
      message: 'expected a duration such as "10m", "4h", "5d" or milliseconds',
    });
    return z.NEVER;
  }
  return durationMs;
});

/** `host:port`, `[2001:db8::1]:2525` or a bare host (port 25). */
const hostPort = z
  .string()
  .regex(/^(\[[0-9A-Fa-f:.]+\]|[^\s:[\]]+)(:\d{1,5})?$/, 'expected host:port such as 127.0.0.2:2525');

/** A destination domain, `.domain` for its subdomains, or `*` for any other (delivery/domain-map.ts). */
const domainKey = z
  .string()
  .regex(
    /^(\*|\.?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*)$/,
    'expected a domain, .domain for its subdomains, or * for any other',
  )
  .transform((name) => name.toLowerCase());

const perUnitSeconds: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600 };

/** "10/s", "600/m", "5000/h": deliveries started per second. */
const rate = z
  .string()
  .regex(/^\s*\d+(\.\d+)?\s*\/\s*[smh]\s*$/i, 'expected a rate such as "10/s", "600/m" or "5000/h"')
  .transform((text) => {
    const [count = '0', unit = 's'] = text.replaceAll(' ', '').toLowerCase().split('/');
    return Number(count) / (perUnitSeconds[unit] ?? 1);
  })
  .refine((perSecond) => perSecond > 0, 'a rate above zero');

const retry = z
  .strictObject({
    /** Waits after the 1st, 2nd, … deferral. Default 10m, 30m, 1h, 2h. */
    schedule: z.array(duration).min(1).optional(),
    /** After the schedule: every this long. Default 3h. */
    repeatEvery: duration.optional(),
    /** Each wait spread by ± this fraction. Default 0.1. */
    jitter: z.number().min(0).max(0.99).optional(),
    /** RFC 5321 §4.5.4.1: at least 4 days. Default 5d. */
    giveUpAfter: duration.optional(),
    /** A delay DSN once a delivery has waited this long (RFC 3461 DELAY); null for none. Default 4h. */
    delayWarningAfter: duration.nullable().optional(),
  })
  .transform((value, context): RetryPolicy => {
    const policy: RetryPolicy = {
      schedule: value.schedule ?? defaultRetryPolicy.schedule,
      repeatEvery: value.repeatEvery ?? defaultRetryPolicy.repeatEvery,
      jitter: value.jitter ?? defaultRetryPolicy.jitter,
      giveUpAfter: value.giveUpAfter ?? defaultRetryPolicy.giveUpAfter,
      delayWarningAfter:
        value.delayWarningAfter === undefined
          ? defaultRetryPolicy.delayWarningAfter
          : value.delayWarningAfter,
    };
    for (const problem of validateRetryPolicy(policy)) context.addIssue({ code: 'custom', message: problem });
    return policy;
  });

export const deliverySchemaShape = {
  /** DNS servers for MX/A/TXT lookups (`ip` or `ip:port`). Default: the system's. */
  dnsServers: z.array(hostPort).default([]),
  /** Per-domain transport overrides: `{ 'example.test': '127.0.0.2:2525' }` (no MX lookup). */
  transports: z.record(z.string().min(1), hostPort).default({}),
  /** Relay all outbound mail through this server instead of each domain's MX. */
  smarthost: z
    .strictObject({
      host: z.string().min(1),
      port: z.number().int().min(1).max(65_535).default(587),
      username: z.string().min(1).optional(),
      password: z.string().min(1).optional(),
      /** 465-style implicit TLS. */
      secure: z.boolean().default(false),
    })
    .nullable()
    .default(null),
  /** The port MX hosts are reached on. Default 25. */
  deliveryPort: z.number().int().min(1).max(65_535).default(25),
  /**
   * Where delivery connections come from (Postfix's smtp_bind_address, smtp_bind_address6 and
   * inet_protocols): on a machine with several addresses, the ones whose PTR and SPF records say
   * they send mail. The smarthost connection is not bound.
   */
  outbound: z
    .strictObject({
      /** The IPv4 source address of connections to MX hosts; default the system's choice. */
      sourceAddress: z
        .string()
        .refine((address) => isIP(address) === 4, 'expected an IPv4 address of this machine')
        .optional(),
      /** The IPv6 source address; default the system's choice. */
      sourceAddress6: z
        .string()
        .refine((address) => isIP(address) === 6, 'expected an IPv6 address of this machine')
        .optional(),
      /**
       * PEM certificates of more authorities to trust where a certificate is verified (tlsPolicy
       * verify, MTA-STS), besides Node's bundled ones: an internal relay's private CA.
       */
      caFile: z.string().min(1).optional(),
      /** The families MX hosts are reached over: ['ipv4'] when IPv6 has no PTR record. */
      addressFamilies: z
        .array(z.enum(['ipv4', 'ipv6']))
        .min(1)
        .refine((families) => new Set(families).size === families.length, 'each family once')
        .default(['ipv4', 'ipv6']),
    })
    .prefault({}),
  /**
   * STARTTLS per destination domain (Postfix's smtp_tls_policy_maps): none, may (the default),
   * encrypt (required, certificate not checked) or verify (required, certificate valid for the MX
   * host). `example.com` is that domain, `.example.com` every subdomain of it, `*` any other
   * (delivery/domain-map.ts).
   */
  tlsPolicy: z.record(domainKey, z.enum(['none', 'may', 'encrypt', 'verify'])).default({}),
  /**
   * Limits per destination domain (Postfix's per-destination concurrency limit and rate delay):
   * `{ 'gmail.com': { maxConcurrency: 10, rate: '20/s' } }`; `.example.com` for subdomains, `*` for
   * every other domain (delivery/destination-limits.ts).
   */
  destinations: z
    .record(
      domainKey,
      z.strictObject({
        maxConcurrency: z.number().int().min(1).max(1000).optional(),
        rate: rate.optional(),
        burst: z.number().int().min(1).max(1000).optional(),
      }),
    )
    .default({}),
  retry: retry.prefault({}),
  /**
   * DKIM signing of mail From mta.localDomains. Keys are made on first start in <dataDir>/dkim
   * (RSA-2048 and Ed25519), and the DNS records to publish are printed then.
   */
  dkim: z
    .strictObject({
      enabled: z.boolean().default(true),
      rsaSelector: z.string().min(1).default('rsa1'),
      ed25519Selector: z.string().min(1).default('ed1'),
    })
    .prefault({}),
  /**
   * Connection reuse per MX host: after a transaction the connection stays open for the next
   * delivery there (no RSET between: the final reply resets the session). `false` opens one per delivery.
   */
  connectionReuse: z
    .union([
      z.literal(false),
      z.strictObject({
        /** A kept connection idle this long is closed. Default 5s. */
        idleTimeout: duration.prefault('5s'),
        /** Transactions per connection before it is closed. Default 100. */
        maxMessages: z.number().int().min(1).default(100),
        /**
         * Idle connections kept per MX host. Default 20: as many as the destination window lets run
         * at once (destination-window.ts), so a burst's sessions all find a connection to reuse.
         */
        maxIdlePerHost: z.number().int().min(1).default(20),
      }),
    ])
    .prefault({}),
  /**
   * How long delivered and failed mail (every delivery final) is kept after its last delivery
   * ended, message bytes and attempts included; null keeps it forever. Default 7d.
   */
  retention: duration.nullable().prefault('7d'),
  /** How long a worker's lease on a delivery lasts (a crashed worker's deliveries return after it). */
  leaseDuration: duration.prefault('10m'),
} as const;

export const deliverySchema = z.strictObject(deliverySchemaShape);
export type DeliveryConfig = z.output<typeof deliverySchema>;
