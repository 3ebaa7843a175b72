import ipaddr from 'ipaddr.js';
import type { DnsListZoneConfig } from '../../config/inbound-checks-schema.js';
import { type DnsLookup, isNoRecord } from './dns-lookup.js';
import type { DnsListEntry, DnsListVerdict } from './inbound-verdicts.js';

export interface DnsListOptions {
  readonly blockLists: readonly DnsListZoneConfig[];
  readonly allowLists: readonly DnsListZoneConfig[];
  readonly threshold: number;
  readonly timeoutMs: number;
  readonly lookup: DnsLookup;
}

/**
 * The name a DNS list is asked about an address: IPv4 octets reversed (RFC 5782 §2.1), IPv6
 * nibbles reversed (§2.4), under the list's zone. An IPv4-mapped IPv6 address is asked as IPv4.
 */
export function dnsListQueryName(address: string, zone: string): string {
  const parsed = ipaddr.process(address);
  const labels =
    parsed.kind() === 'ipv4'
      ? parsed.toByteArray().map(String)
      : parsed.toByteArray().flatMap((byte) => [(byte >> 4).toString(16), (byte & 0x0f).toString(16)]);
  return `${labels.reverse().join('.')}.${zone}`;
}

/**
 * What a list's A records mean. RFC 5782 §2.3: a listing is an address in 127.0.0.0/8; §5: no list
 * may answer 127.0.0.1. Lists answer other things that are not listings and must never block:
 * 127.255.255.0/24 (Spamhaus and others: 252 typing error, 254 query through a public resolver,
 * 255 over the free quota), 127.0.0.255 (dnswl.org: over the limit), and addresses outside
 * 127.0.0.0/8 (a list that died and whose domain now answers everything).
 */
export function classifyListAnswers(
  answers: readonly string[],
  accepted: readonly string[] | undefined,
): { readonly status: DnsListEntry['status']; readonly reason: string } {
  const errors = answers.filter(isErrorAnswer);
  const listings = answers.filter(
    (answer) => !isErrorAnswer(answer) && (accepted === undefined || accepted.includes(answer)),
  );
  if (listings.length > 0) return { status: 'listed', reason: `listed (${listings.join(', ')})` };
  if (errors.length > 0) return { status: 'error', reason: `error answer ${errors.join(', ')}, ignored` };
  return { status: 'not-listed', reason: `answer ${answers.join(', ')} not counted` };
}

function isErrorAnswer(answer: string): boolean {
  if (!ipaddr.IPv4.isValid(answer)) return true;
  const [first, second, third, fourth] = ipaddr.IPv4.parse(answer).octets;
  if (first !== 127) return true;
  if (second === 255 && third === 255) return true;
  return second === 0 && third === 0 && (fourth === 1 || fourth === 255);
}

/**
 * Asks every configured list about the client in parallel. A list that does not answer, or answers
 * nonsense, counts as not listing: a broken list must never refuse everyone's mail.
 */
export async function checkDnsLists(address: string, options: DnsListOptions): Promise<DnsListVerdict> {
  const zones = [
    ...options.blockLists.map((list) => ({ list, kind: 'block' as const })),
    ...options.allowLists.map((list) => ({ list, kind: 'allow' as const })),
  ];
  if (zones.length === 0) return { result: 'skipped', score: 0, entries: [], reason: 'no lists configured' };
  if (!ipaddr.isValid(address))
    return { result: 'skipped', score: 0, entries: [], reason: `not an IP address: ${address}` };
  const entries = await Promise.all(zones.map(({ list, kind }) => queryList(address, list, kind, options)));
  let score = 0;
  for (const [index, entry] of entries.entries()) {
    if (entry.status !== 'listed') continue;
    const weight = zones[index]?.list.weight ?? 0;
    score += entry.kind === 'block' ? weight : -weight;
  }
  const blockedBy = entries.filter((entry) => entry.kind === 'block' && entry.status === 'listed');
  const allowedBy = entries.filter((entry) => entry.kind === 'allow' && entry.status === 'listed');
  if (blockedBy.length > 0 && score >= options.threshold)
    return {
      result: 'listed',
      score,
      entries,
      reason: `listed by ${blockedBy.map((entry) => entry.zone).join(', ')}`,
    };
  if (allowedBy.length > 0)
    return {
      result: 'allowed',
      score,
      entries,
      reason: `allowed by ${allowedBy.map((entry) => entry.zone).join(', ')}`,
    };
  return { result: 'pass', score, entries, reason: 'not listed' };
}

async function queryList(
  address: string,
  list: DnsListZoneConfig,
  kind: DnsListEntry['kind'],
  options: DnsListOptions,
): Promise<DnsListEntry> {
  const name = dnsListQueryName(address, list.zone);
  let answers: string[];
  try {
    answers = (await withTimeout(options.lookup(name, 'A'), options.timeoutMs)) as string[];
  } catch (error) {
    if (isNoRecord(error))
      return { zone: list.zone, kind, answers: [], status: 'not-listed', reason: 'NXDOMAIN' };
    return { zone: list.zone, kind, answers: [], status: 'error', reason: describeError(error) };
  }
  const classified = classifyListAnswers(answers, list.answers);
  if (classified.status !== 'listed') return { zone: list.zone, kind, answers, ...classified };
  let reason = classified.reason;
  try {
    const texts = (await withTimeout(options.lookup(name, 'TXT'), options.timeoutMs)) as string[][];
    const text = texts.map((parts) => parts.join('')).join(' ');
    if (text !== '') reason = text;
  } catch {
    // The TXT record is optional (RFC 5782 §2.1): the A record decides.
  }
  return { zone: list.zone, kind, answers, status: 'listed', reason: replySafe(reason) };
}

/** A list's text goes into our SMTP reply: printable ASCII only, one line, bounded. */
function replySafe(text: string): string {
  return text
    .replace(/[^\x20-\x7e]+/g, ' ')
    .trim()
    .slice(0, 200);
}

function describeError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : error instanceof Error ? error.message : String(error);
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error('timed out'), { code: 'ETIMEOUT' })), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
