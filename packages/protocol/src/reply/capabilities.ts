import type { Reply } from './reply.js';

/** What a server offered in its EHLO reply (RFC 5321 §4.1.1.1), one field per extension we know. */
export interface Capabilities {
  readonly pipelining: boolean; // RFC 2920
  /** RFC 1870: the fixed maximum message size; 0 when offered without a limit; null when not offered. */
  readonly size: number | null;
  readonly eightBitMime: boolean; // RFC 6152
  readonly smtpUtf8: boolean; // RFC 6531
  readonly enhancedStatusCodes: boolean; // RFC 2034
  readonly startTls: boolean; // RFC 3207
  readonly chunking: boolean; // RFC 3030
  readonly binaryMime: boolean; // RFC 3030
  readonly dsn: boolean; // RFC 3461
  readonly requireTls: boolean; // RFC 8689
  /** RFC 2852: the minimum BY time in seconds (0 when offered without one); null when not offered. */
  readonly deliverBy: number | null;
  /** RFC 4954: SASL mechanisms, uppercased, in the server's order; [] when AUTH is not offered. */
  readonly auth: readonly string[];
  readonly etrn: boolean; // RFC 1985
  readonly vrfy: boolean;
  readonly help: boolean;
  /** Postfix XCLIENT: the attribute names offered, uppercased; null when not offered. */
  readonly xclient: readonly string[] | null;
  /** Every other keyword, uppercased, mapped to its parameters as sent ("" when none). */
  readonly unknown: ReadonlyMap<string, string>;
}

/** A server that offers nothing: what HELO gives. */
export const emptyCapabilities: Capabilities = Object.freeze({
  pipelining: false,
  size: null,
  eightBitMime: false,
  smtpUtf8: false,
  enhancedStatusCodes: false,
  startTls: false,
  chunking: false,
  binaryMime: false,
  dsn: false,
  requireTls: false,
  deliverBy: null,
  auth: Object.freeze([]),
  etrn: false,
  vrfy: false,
  help: false,
  xclient: null,
  unknown: new Map<string, string>(),
});

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const flagKeywords = {
  PIPELINING: 'pipelining',
  '8BITMIME': 'eightBitMime',
  SMTPUTF8: 'smtpUtf8',
  ENHANCEDSTATUSCODES: 'enhancedStatusCodes',
  STARTTLS: 'startTls',
  CHUNKING: 'chunking',
  BINARYMIME: 'binaryMime',
  DSN: 'dsn',
  REQUIRETLS: 'requireTls',
  ETRN: 'etrn',
  VRFY: 'vrfy',
  HELP: 'help',
} as const satisfies Record<string, keyof Capabilities>;

type FlagKeyword = keyof typeof flagKeywords;

/**
 * Reads the extensions from an EHLO reply. The first line (`<domain> <greeting>`) is skipped; each
 * other line is `keyword *(SP param)` (RFC 5321 §4.1.1.1), keywords compared without regard to case.
 * Also understands the pre-RFC 4954 `AUTH=LOGIN PLAIN` form some servers still send beside `AUTH`.
 */
export function parseCapabilities(ehloReply: Reply): Capabilities {
  const capabilities: Mutable<Capabilities> = { ...emptyCapabilities, auth: [], unknown: new Map() };
  const auth: string[] = [];
  const unknown = new Map<string, string>();
  const { lines } = ehloReply;
  for (let index = 1; index < lines.length; index += 1) {
    const line = (lines[index] as string).trim();
    if (line === '') continue;
    const space = line.indexOf(' ');
    const keyword = (space < 0 ? line : line.slice(0, space)).toUpperCase();
    const parameters = space < 0 ? '' : line.slice(space + 1).trim();
    if (Object.hasOwn(flagKeywords, keyword)) {
      capabilities[flagKeywords[keyword as FlagKeyword]] = true;
    } else if (keyword === 'SIZE') {
      capabilities.size = parseCount(parameters);
    } else if (keyword === 'DELIVERBY') {
      capabilities.deliverBy = parseCount(parameters);
    } else if (keyword === 'AUTH' || keyword.startsWith('AUTH=')) {
      // `AUTH=LOGIN PLAIN`: the first mechanism rides on the keyword.
      const legacy = keyword.length > 5 ? keyword.slice(5) : '';
      for (const mechanism of [legacy, ...splitWords(parameters)]) {
        const name = mechanism.toUpperCase();
        if (name !== '' && !auth.includes(name)) auth.push(name);
      }
    } else if (keyword === 'XCLIENT') {
      capabilities.xclient = splitWords(parameters).map((name) => name.toUpperCase());
    } else if (!unknown.has(keyword)) {
      unknown.set(keyword, parameters);
    }
  }
  capabilities.auth = auth;
  capabilities.unknown = unknown;
  return capabilities;
}

/**
 * The keyword lines of an EHLO reply for these capabilities, without the greeting line, e.g.
 * `['PIPELINING', 'SIZE 10485760', 'AUTH PLAIN LOGIN']`. `parseCapabilities` reads them back.
 */
export function serializeCapabilities(capabilities: Capabilities): string[] {
  const lines: string[] = [];
  const flag = (isOffered: boolean, keyword: string) => {
    if (isOffered) lines.push(keyword);
  };
  flag(capabilities.pipelining, 'PIPELINING');
  // RFC 1870 §4: a size of 0 means no fixed limit, which is also what a bare SIZE says.
  if (capabilities.size !== null) lines.push(capabilities.size > 0 ? `SIZE ${capabilities.size}` : 'SIZE');
  flag(capabilities.eightBitMime, '8BITMIME');
  flag(capabilities.smtpUtf8, 'SMTPUTF8');
  flag(capabilities.enhancedStatusCodes, 'ENHANCEDSTATUSCODES');
  flag(capabilities.startTls, 'STARTTLS');
  flag(capabilities.chunking, 'CHUNKING');
  flag(capabilities.binaryMime, 'BINARYMIME');
  flag(capabilities.dsn, 'DSN');
  flag(capabilities.requireTls, 'REQUIRETLS');
  if (capabilities.deliverBy !== null) {
    lines.push(capabilities.deliverBy > 0 ? `DELIVERBY ${capabilities.deliverBy}` : 'DELIVERBY');
  }
  if (capabilities.auth.length > 0) lines.push(`AUTH ${capabilities.auth.join(' ')}`);
  flag(capabilities.etrn, 'ETRN');
  flag(capabilities.vrfy, 'VRFY');
  flag(capabilities.help, 'HELP');
  if (capabilities.xclient !== null) {
    lines.push(capabilities.xclient.length > 0 ? `XCLIENT ${capabilities.xclient.join(' ')}` : 'XCLIENT');
  }
  for (const [keyword, parameters] of capabilities.unknown) {
    lines.push(parameters === '' ? keyword : `${keyword} ${parameters}`);
  }
  return lines;
}

function splitWords(text: string): string[] {
  return text.split(' ').filter((word) => word !== '');
}

/** A decimal count such as SIZE's; a missing or malformed number reads as 0 (offered, no value). */
function parseCount(parameters: string): number {
  const first = parameters.split(' ', 1)[0] ?? '';
  if (!/^[0-9]{1,15}$/.test(first)) return 0;
  return Number(first);
}
