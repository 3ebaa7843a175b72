import { Resolver } from 'node:dns/promises';

/**
 * A DNS query in the shape of node:dns `resolve(name, type)` (TXT: string[][], MX: objects, A:
 * strings): what mailauth takes as its `resolver` and what the DNS lists use. Errors carry node's
 * codes (ENOTFOUND for NXDOMAIN, ENODATA, ETIMEOUT, ESERVFAIL).
 */
export type DnsLookup = (name: string, type: string) => Promise<unknown[]>;

export interface DnsLookupOptions {
  /** `ip` or `ip:port`; empty: the system's resolvers (mta.dnsServers). */
  readonly servers: readonly string[];
  readonly timeoutMs?: number;
  readonly tries?: number;
}

/** A lookup through its own node:dns Resolver, so the configured servers apply to it alone. */
export function createDnsLookup(options: DnsLookupOptions): DnsLookup {
  const resolver = new Resolver({ timeout: options.timeoutMs ?? 5000, tries: options.tries ?? 2 });
  if (options.servers.length > 0) resolver.setServers([...options.servers]);
  return (name, type) => resolver.resolve(name, type) as Promise<unknown[]>;
}

/** NXDOMAIN or no record of the type: an answer, not a failure. */
export function isNoRecord(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ENOTFOUND' || code === 'ENODATA';
}
