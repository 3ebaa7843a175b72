import { Resolver } from 'node:dns/promises';

/** The DNS lookups direct delivery needs; inject one in tests (or to use a particular DNS server). */
export interface MxResolver {
  resolveMx(domain: string): Promise<readonly { readonly exchange: string; readonly priority: number }[]>;
  resolve4(hostname: string): Promise<readonly string[]>;
  resolve6(hostname: string): Promise<readonly string[]>;
  /** TXT records, each as its strings; without it, deliver() finds no MTA-STS policies (RFC 8461). */
  resolveTxt?(name: string): Promise<readonly (readonly string[])[]>;
}

/** node:dns with its default servers. */
export function createSystemResolver(options: { timeoutMs?: number; tries?: number } = {}): MxResolver {
  const resolver = new Resolver({ timeout: options.timeoutMs ?? 10_000, tries: options.tries ?? 2 });
  return {
    resolveMx: (domain) => resolver.resolveMx(domain),
    resolve4: (hostname) => resolver.resolve4(hostname),
    resolve6: (hostname) => resolver.resolve6(hostname),
    resolveTxt: (name) => resolver.resolveTxt(name),
  };
}

export interface MxHost {
  readonly exchange: string;
  readonly preference: number;
  /** RFC 5321 §5.1: no MX records, so the domain itself is the host ("implicit MX"). */
  readonly implicit: boolean;
}

export type MxResolution =
  | { readonly kind: 'hosts'; readonly hosts: readonly MxHost[] }
  /** RFC 7505: the domain accepts no mail. */
  | { readonly kind: 'null-mx' }
  /** NXDOMAIN: the domain does not exist. Permanent. */
  | { readonly kind: 'no-domain'; readonly error: unknown }
  /** SERVFAIL, timeouts, refused: try again later. */
  | { readonly kind: 'temporary'; readonly error: unknown };

/**
 * RFC 5321 §5.1: the MX records in preference order (lowest first), equal preferences shuffled to spread
 * load; no MX records at all means the domain itself is the only host (implicit MX, A/AAAA fallback);
 * a single MX "." is a Null MX (RFC 7505 §3) and means no mail is accepted.
 */
export async function resolveMx(
  domain: string,
  resolver: MxResolver,
  random: () => number = Math.random,
): Promise<MxResolution> {
  let records: readonly { exchange: string; priority: number }[];
  try {
    records = await resolver.resolveMx(domain);
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENODATA') {
      return { kind: 'hosts', hosts: [{ exchange: domain, preference: 0, implicit: true }] };
    }
    if (code === 'ENOTFOUND') return { kind: 'no-domain', error };
    return { kind: 'temporary', error };
  }
  if (records.length === 0)
    return { kind: 'hosts', hosts: [{ exchange: domain, preference: 0, implicit: true }] };
  const isNull = (record: { exchange: string }) => record.exchange === '' || record.exchange === '.';
  // RFC 7505 §3: a Null MX is the only record; one mixed with real MXs is a misconfiguration and is ignored.
  if (records.every(isNull)) return { kind: 'null-mx' };
  const seen = new Set<string>();
  const hosts = records
    .filter((record) => !isNull(record))
    .map((record) => ({ record, tiebreak: random() }))
    .sort((a, b) => a.record.priority - b.record.priority || a.tiebreak - b.tiebreak)
    .map(({ record }) => ({
      exchange: record.exchange.replace(/\.$/, '').toLowerCase(),
      preference: record.priority,
      implicit: false,
    }))
    .filter((host) => {
      if (seen.has(host.exchange)) return false;
      seen.add(host.exchange);
      return true;
    });
  return { kind: 'hosts', hosts };
}

/**
 * A host's addresses, IPv6 first (RFC 8305 §4 prefers IPv6; the dialer interleaves the families). Lookups
 * that fail count as no addresses of that family.
 */
export async function resolveAddresses(hostname: string, resolver: MxResolver): Promise<string[]> {
  const [v6, v4] = await Promise.allSettled([resolver.resolve6(hostname), resolver.resolve4(hostname)]);
  return [...(v6.status === 'fulfilled' ? v6.value : []), ...(v4.status === 'fulfilled' ? v4.value : [])];
}

function errorCode(error: unknown): string | null {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string'
    ? error.code
    : null;
}
