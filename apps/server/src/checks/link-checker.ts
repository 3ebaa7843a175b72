import { lookup } from 'node:dns/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

export interface LinkCheckOptions {
  readonly timeoutMs: number;
  readonly maxRedirects: number;
  /** Fetch private, loopback and link-local addresses too (tests, intranets). Default: refused. */
  readonly allowPrivateAddresses: boolean;
  readonly concurrency?: number;
}

export interface LinkStatus {
  readonly url: string;
  /** The last HTTP status seen; null when none (refused, failed, timed out). */
  readonly status: number | null;
  /** A 2xx at the end of the redirects. */
  readonly isOk: boolean;
  readonly redirects: number;
  readonly finalUrl: string;
  /** Why there is no status, or why the chain stopped. */
  readonly error: string | null;
}

/**
 * Checks URLs with HEAD (GET when HEAD is refused), following redirects up to a limit. Against
 * SSRF, every hop's host is resolved first and the request goes to that very address (no second
 * lookup to rebind); an address that is not public unicast is refused unless allowed.
 */
export async function checkLinks(urls: readonly string[], options: LinkCheckOptions): Promise<LinkStatus[]> {
  const results: LinkStatus[] = new Array(urls.length);
  let next = 0;
  const worker = async () => {
    for (;;) {
      const index = next++;
      const url = urls[index];
      if (url === undefined) return;
      results[index] = await checkOne(url, options);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 6, urls.length) }, worker));
  return results;
}

async function checkOne(url: string, options: LinkCheckOptions): Promise<LinkStatus> {
  let current = url;
  let status: number | null = null;
  for (let redirects = 0; ; redirects += 1) {
    const done = (error: string | null): LinkStatus => ({
      url,
      status,
      isOk: error === null && status !== null && status >= 200 && status < 300,
      redirects,
      finalUrl: current,
      error,
    });
    let target: URL;
    try {
      target = new URL(current);
    } catch {
      return done('not a valid URL');
    }
    if (target.protocol !== 'http:' && target.protocol !== 'https:')
      return done(`${target.protocol} is not checked`);
    const address = await resolvePermitted(target.hostname, options.allowPrivateAddresses).catch(
      (error: Error) => error,
    );
    if (address instanceof Error) return done(address.message);
    let response: { status: number; location: string | null };
    try {
      response = await fetchPinned(target, address, 'HEAD', options.timeoutMs);
      // Some servers refuse HEAD: ask again with GET (the body is not read).
      if (response.status === 405 || response.status === 501)
        response = await fetchPinned(target, address, 'GET', options.timeoutMs);
    } catch (error) {
      return done((error as Error).message);
    }
    status = response.status;
    if (status < 300 || status >= 400 || response.location === null) return done(null);
    if (redirects >= options.maxRedirects) return done(`more than ${options.maxRedirects} redirects`);
    current = new URL(response.location, target).href;
  }
}

/** The address to connect to, or an error when the host has none or only refused ones. */
async function resolvePermitted(
  hostname: string,
  allowPrivate: boolean,
): Promise<{ address: string; family: number }> {
  const bare = hostname.replace(/^\[(.*)\]$/, '$1');
  const addresses = ipaddr.isValid(bare)
    ? [{ address: bare, family: bare.includes(':') ? 6 : 4 }]
    : await lookup(bare, { all: true, verbatim: true }).catch(() => {
        throw new Error(`cannot resolve ${bare}`);
      });
  if (addresses.length === 0) throw new Error(`cannot resolve ${bare}`);
  if (!allowPrivate) {
    for (const { address } of addresses) {
      const range = rangeOf(address);
      // Any non-public answer refuses the host: a name pointing at both could pick either later.
      if (range !== 'unicast')
        throw new Error(
          `refused: ${bare} is a ${range} address (${address}); see linkCheck.allowPrivateAddresses`,
        );
    }
  }
  return addresses[0] as { address: string; family: number };
}

function rangeOf(address: string): string {
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress())
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  return parsed.range();
}

function fetchPinned(
  target: URL,
  resolved: { address: string; family: number },
  method: 'HEAD' | 'GET',
  timeoutMs: number,
): Promise<{ status: number; location: string | null }> {
  const pinnedLookup: LookupFunction = (_hostname, lookupOptions, callback) => {
    if (lookupOptions.all) callback(null, [resolved]);
    else callback(null, resolved.address, resolved.family);
  };
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const outgoing = request(
      target,
      { method, lookup: pinnedLookup, timeout: timeoutMs, headers: { 'User-Agent': '@smtp/app link check' } },
      (response: IncomingMessage) => {
        response.resume(); // the body is not needed
        const location = response.headers.location;
        resolve({ status: response.statusCode ?? 0, location: location === undefined ? null : location });
        response.destroy();
      },
    );
    outgoing.on('timeout', () => outgoing.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    outgoing.on('error', reject);
    outgoing.end();
  });
}
