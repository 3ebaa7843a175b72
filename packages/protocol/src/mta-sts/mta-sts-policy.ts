// RFC 8461 (SMTP MTA Strict Transport Security): the DNS record that announces a policy and the
// policy itself, parsed; and the MX host patterns a policy allows. Fetching both is the caller's.

import { parseVersionedRecord } from './versioned-record.js';

export type MtaStsMode = 'enforce' | 'testing' | 'none';

export interface MtaStsPolicy {
  readonly mode: MtaStsMode;
  /** How long the policy may be cached, in seconds (RFC 8461 §3.2: at most 31557600, a year). */
  readonly maxAgeSeconds: number;
  /** Host names or `*.`-prefixed wildcards; empty only when mode is none. */
  readonly mx: readonly string[];
}

/** RFC 8461 §3.2 */
const maxMaxAgeSeconds = 31_557_600;
/** RFC 8461 §3.1: id = 1*32(ALPHA / DIGIT) */
const recordIdPattern = /^[A-Za-z0-9]{1,32}$/;
/** RFC 8461 §3.1: sts-ext-value = 1*(%x21-3A / %x3C / %x3E-7E), printable ASCII but ";" and "=". */
const valuePattern = /^[\x21-\x3a\x3c\x3e-\x7e]+$/;

/**
 * The policy id from the TXT records at `_mta-sts.<domain>` (RFC 8461 §3.1), or null when there is
 * no policy: records that do not start with `v=STSv1` are ignored, and anything but exactly one
 * valid record means none.
 */
export function parseMtaStsRecords(records: readonly string[]): { readonly id: string } | null {
  const id = parseVersionedRecord(records, 'STSv1', (value) => valuePattern.test(value))?.get('id');
  return id !== undefined && recordIdPattern.test(id) ? { id } : null;
}

/** Where a domain's policy file is fetched from (RFC 8461 §3.3); `domain` in its ASCII form. */
export function mtaStsPolicyUrl(domain: string): string {
  return `https://mta-sts.${domain}/.well-known/mta-sts.txt`;
}

/**
 * The policy file (`https://mta-sts.<domain>/.well-known/mta-sts.txt`, RFC 8461 §3.2): `key: value`
 * lines ending in LF or CRLF. Null when it is not a valid STSv1 policy. Unknown keys are ignored;
 * of a repeated key other than mx the first counts.
 */
export function parseMtaStsPolicy(text: string): MtaStsPolicy | null {
  const fields = new Map<string, string>();
  const mx: string[] = [];
  for (const rawLine of text.split('\n')) {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (line.trim() === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) return null;
    const key = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (key === 'mx') mx.push(value.toLowerCase().replace(/\.$/, ''));
    else if (!fields.has(key)) fields.set(key, value);
  }
  const mode = fields.get('mode');
  const maxAge = fields.get('max_age');
  if (fields.get('version') !== 'STSv1') return null;
  if (mode !== 'enforce' && mode !== 'testing' && mode !== 'none') return null;
  if (maxAge === undefined || !/^[0-9]{1,10}$/.test(maxAge)) return null;
  if (mode !== 'none' && (mx.length === 0 || !mx.every(isMxPattern))) return null;
  return { mode, maxAgeSeconds: Math.min(Number(maxAge), maxMaxAgeSeconds), mx };
}

function isMxPattern(pattern: string): boolean {
  const name = pattern.startsWith('*.') ? pattern.slice(2) : pattern;
  return /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/.test(name);
}

/**
 * Whether an MX host is one the policy allows (RFC 8461 §4.1): equal to a pattern, or matched by a
 * `*.` pattern in exactly its leftmost label (`*.example.com` matches `mx.example.com`, not
 * `a.mx.example.com` or `example.com`). Case-insensitive; a trailing dot does not count.
 */
export function isMxAllowedByPolicy(host: string, policy: MtaStsPolicy): boolean {
  const name = host.toLowerCase().replace(/\.$/, '');
  return policy.mx.some((pattern) => {
    if (!pattern.startsWith('*.')) return pattern === name;
    const dot = name.indexOf('.');
    return dot > 0 && name.slice(dot + 1) === pattern.slice(2);
  });
}
