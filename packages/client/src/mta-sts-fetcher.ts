import type { LookupAddress, LookupOptions } from 'node:dns';
import { get } from 'node:https';
import { isIP } from 'node:net';
import type { MtaStsFetcher } from './mta-sts.js';
import type { MxResolver } from './resolve-mx.js';

/** RFC 8461 §3.3: senders should limit the policy's size; 64 KB is the RFC's example. */
const maxPolicyBytes = 64 * 1024;

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A policy fetcher that resolves `mta-sts.<domain>` through `resolver` (the DNS servers the MX lookup
 * used, e.g. `smtp mx --dns-server`) instead of the system's: node:https with a `lookup` of our own.
 * Same rules as fetchMtaStsPolicy (RFC 8461 §3.3): certificate checked, no redirects followed, status 200,
 * text/plain, at most 64 KB.
 */
export function createMtaStsFetcher(options: {
  readonly resolver: Pick<MxResolver, 'resolve4' | 'resolve6'>;
  /** Trust these CA certificates instead of Node's bundle (a private CA in a test network). */
  readonly ca?: string | readonly string[];
}): MtaStsFetcher {
  const { resolver } = options;
  const ca =
    options.ca === undefined ? {} : { ca: typeof options.ca === 'string' ? options.ca : [...options.ca] };
  const lookup = (hostname: string, lookupOptions: LookupOptions, callback: LookupCallback): void => {
    addressesOf(hostname, resolver).then(
      (addresses) => {
        if (addresses.length === 0) {
          const error: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
          error.code = 'ENOTFOUND';
          callback(error, '');
        } else if (lookupOptions.all === true) {
          callback(null, addresses);
        } else {
          const first = addresses[0]!;
          callback(null, first.address, first.family);
        }
      },
      (error: NodeJS.ErrnoException) => callback(error, ''),
    );
  };
  return (url, signal) =>
    new Promise<string>((resolve, reject) => {
      const request = get(url, { ...ca, lookup, signal, headers: { accept: 'text/plain' } }, (response) => {
        const fail = (message: string) => {
          response.destroy();
          reject(new Error(message));
        };
        if (response.statusCode !== 200) return fail(`${url} answered HTTP ${response.statusCode}`);
        const contentType = response.headers['content-type'] ?? '';
        if (!/^text\/plain[\t ]*(?:;|$)/i.test(contentType)) {
          return fail(`${url} is ${contentType || 'without a content type'}, not text/plain`);
        }
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.byteLength;
          if (size > maxPolicyBytes) fail(`${url} is larger than ${maxPolicyBytes} bytes`);
          else chunks.push(chunk);
        });
        response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        response.on('error', reject);
      });
      request.on('error', reject);
    });
}

/** IPv6 and IPv4 addresses of a host name from the resolver; an IP literal as it is. */
async function addressesOf(
  hostname: string,
  resolver: Pick<MxResolver, 'resolve4' | 'resolve6'>,
): Promise<LookupAddress[]> {
  const family = isIP(hostname);
  if (family !== 0) return [{ address: hostname, family }];
  const [ipv6, ipv4] = await Promise.allSettled([resolver.resolve6(hostname), resolver.resolve4(hostname)]);
  return [
    ...(ipv6.status === 'fulfilled' ? ipv6.value.map((address) => ({ address, family: 6 })) : []),
    ...(ipv4.status === 'fulfilled' ? ipv4.value.map((address) => ({ address, family: 4 })) : []),
  ];
}
