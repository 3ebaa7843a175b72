import {
  type MtaStsPolicy,
  mtaStsPolicyUrl,
  parseMtaStsPolicy,
  parseMtaStsRecords,
  parseTlsRptRecords,
} from '@smtp/protocol';
import { deadlineSignal } from './abort.js';
import type { MxResolver } from './resolve-mx.js';

/** Fetches a policy file's text from its HTTPS URL; throws when it cannot. */
export type MtaStsFetcher = (url: string, signal: AbortSignal) => Promise<string>;

export interface MtaStsOptions {
  /** How a policy file is fetched. Default: fetchMtaStsPolicy (fetch, no redirects, text/plain, 64 KB). */
  readonly fetchPolicy?: MtaStsFetcher;
  /** Where policies are remembered. Default: one cache shared by the process. */
  readonly cache?: MtaStsCache;
  /** Default 20 s. */
  readonly fetchTimeoutMs?: number;
}

/** RFC 8461 §3.3: senders should limit the policy's size; 64 KB is the RFC's example. */
const maxPolicyBytes = 64 * 1024;
const defaultFetchTimeoutMs = 20_000;

interface CachedPolicy {
  readonly id: string;
  readonly policy: MtaStsPolicy;
  readonly expiresAtMs: number;
}

/**
 * Policies by domain until their max_age runs out (RFC 8461 §5.1), at most `maxEntries` of them:
 * past that the one stored longest ago goes first.
 */
export class MtaStsCache {
  readonly #entries = new Map<string, CachedPolicy>();
  readonly #maxEntries: number;

  constructor(options: { maxEntries?: number } = {}) {
    this.#maxEntries = options.maxEntries ?? 10_000;
  }

  /** The unexpired policy of `domain`, if any. */
  get(domain: string, nowMs = Date.now()): CachedPolicy | undefined {
    const entry = this.#entries.get(domain);
    if (entry === undefined || entry.expiresAtMs > nowMs) return entry;
    this.#entries.delete(domain);
    return undefined;
  }

  set(domain: string, id: string, policy: MtaStsPolicy, nowMs = Date.now()): void {
    this.#entries.delete(domain);
    this.#entries.set(domain, { id, policy, expiresAtMs: nowMs + policy.maxAgeSeconds * 1000 });
    if (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }

  get size(): number {
    return this.#entries.size;
  }
}

const sharedCache = new MtaStsCache();

/**
 * The MTA-STS policy of `domain` (an ASCII name), or null when it has none (RFC 8461 §3, §5.1): the
 * TXT record at `_mta-sts.<domain>` names the current policy id; a policy cached under that id is used
 * as is, otherwise it is fetched from `https://mta-sts.<domain>/.well-known/mta-sts.txt`. When DNS
 * or the fetch fails, an unexpired cached policy still applies: an attacker who blocks them must not
 * be able to switch the policy off.
 */
export async function discoverMtaStsPolicy(
  domain: string,
  resolver: MxResolver,
  options: MtaStsOptions,
  signal: AbortSignal,
): Promise<MtaStsPolicy | null> {
  const cache = options.cache ?? sharedCache;
  const cached = cache.get(domain);
  const record = await lookUpMtaStsRecord(domain, resolver);
  if (record === null || record.id === cached?.id) return cached?.policy ?? null;
  const fetchPolicy = options.fetchPolicy ?? fetchMtaStsPolicy;
  const deadline = deadlineSignal(signal, options.fetchTimeoutMs ?? defaultFetchTimeoutMs);
  let policy: MtaStsPolicy | null;
  try {
    policy = parseMtaStsPolicy(await fetchPolicy(mtaStsPolicyUrl(domain), deadline.signal));
  } catch {
    policy = null;
  } finally {
    deadline.dispose();
  }
  if (policy === null) return cached?.policy ?? null;
  cache.set(domain, record.id, policy);
  return policy;
}

/** The policy id in the TXT record at `_mta-sts.<domain>`, or null when there is none (or DNS fails). */
export async function lookUpMtaStsRecord(
  domain: string,
  resolver: MxResolver,
): Promise<{ id: string } | null> {
  return parseMtaStsRecords(await txtRecords(`_mta-sts.${domain}`, resolver));
}

/** RFC 8460 §3: where `domain` wants TLS failure reports, from `_smtp._tls.<domain>`; null for none. */
export async function lookUpTlsRptRecord(
  domain: string,
  resolver: MxResolver,
): Promise<{ rua: readonly string[] } | null> {
  return parseTlsRptRecords(await txtRecords(`_smtp._tls.${domain}`, resolver));
}

/** The TXT records at `name`, none when the resolver cannot ask or DNS fails. */
async function txtRecords(name: string, resolver: MxResolver): Promise<string[]> {
  if (resolver.resolveTxt === undefined) return [];
  try {
    // A TXT record may come in several strings: they are one text (RFC 7208 §3.3 does the same).
    return (await resolver.resolveTxt(name)).map((strings) => strings.join(''));
  } catch {
    return [];
  }
}

/**
 * Fetches a policy file as RFC 8461 §3.3 asks: HTTPS with the certificate checked (fetch's default),
 * no redirects followed, status 200, a text/plain body of at most 64 KB.
 */
export async function fetchMtaStsPolicy(url: string, signal: AbortSignal): Promise<string> {
  const response = await fetch(url, { redirect: 'manual', signal, headers: { accept: 'text/plain' } });
  if (response.status !== 200) {
    await response.body?.cancel();
    throw new Error(`${url} answered HTTP ${response.status}`);
  }
  const contentType = response.headers.get('content-type') ?? '';
  if (!/^text\/plain[\t ]*(?:;|$)/i.test(contentType)) {
    await response.body?.cancel();
    throw new Error(`${url} is ${contentType || 'without a content type'}, not text/plain`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body?.getReader();
  for (let read = await reader?.read(); read !== undefined && !read.done; read = await reader?.read()) {
    size += read.value.byteLength;
    if (size > maxPolicyBytes) {
      await reader?.cancel();
      throw new Error(`${url} is larger than ${maxPolicyBytes} bytes`);
    }
    chunks.push(read.value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}
