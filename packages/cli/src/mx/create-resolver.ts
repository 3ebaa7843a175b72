import { Resolver } from 'node:dns/promises';
import type { MxResolver } from '@smtp/client';
import { Option } from 'commander';
import { usageError } from '../cli-error.js';
import { parseServerAddress } from '../options/parse-server.js';

/**
 * node:dns lookups, through the system's resolvers or the ones named with --dns-server
 * (`1.1.1.1`, `127.0.0.1:5353`, `[2001:db8::53]:53`, comma-separated).
 */
export function createResolver(options: { servers?: string; timeoutMs: number }): MxResolver {
  const resolver = new Resolver({ timeout: options.timeoutMs, tries: 2 });
  if (options.servers !== undefined) {
    const servers = options.servers
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '')
      .map((item) => {
        const address = parseServerAddress(item, 53, '--dns-server');
        return address.host.includes(':')
          ? `[${address.host}]:${address.port}`
          : `${address.host}:${address.port}`;
      });
    if (servers.length === 0)
      throw usageError('--dns-server is empty: give an address such as 1.1.1.1 or 127.0.0.1:5353');
    try {
      resolver.setServers(servers);
    } catch (error) {
      throw usageError(
        `--dns-server '${options.servers}': ${(error as Error).message}; give IP addresses, not names`,
      );
    }
  }
  return {
    resolveMx: (domain) => resolver.resolveMx(domain),
    resolve4: (hostname) => resolver.resolve4(hostname),
    resolve6: (hostname) => resolver.resolve6(hostname),
    resolveTxt: (name) => resolver.resolveTxt(name),
  };
}

/** The --dns-server option (also SMTP_DNS_SERVER) that createResolver's `servers` comes from. */
export function dnsServerOption(description: string): Option {
  return new Option('--dns-server <address[:port]>', description).env('SMTP_DNS_SERVER');
}
