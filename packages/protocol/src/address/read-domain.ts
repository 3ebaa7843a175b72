// RFC 5321 §4.1.2 Domain and §4.1.3 address-literal; RFC 6531 §3.3 U-labels under SMTPUTF8.

import { utf8ByteLength } from '../bytes/utf8.js';
import type { GrammarFailure, GrammarOptions } from './grammar-options.js';
import { domainToAscii } from './idna.js';
import { isIpv4Address, isIpv6Address } from './ip-literal.js';
import type { Domain } from './mailbox.js';

/** RFC 5321 §4.5.3.1.2 */
export const maxDomainOctets = 255;
/** RFC 1035 §2.3.4: a label is at most 63 octets. */
const maxLabelOctets = 63;

function isLetterOrDigit(code: number): boolean {
  return (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || (code >= 48 && code <= 57);
}

/**
 * `sub-domain *("." sub-domain)`, sub-domain = Let-dig [Ldh-str]: labels of letters, digits and inner
 * hyphens. Lenient mode also takes `_` (seen in real HELO names). UTF-8 labels only when options.utf8,
 * and only valid U-labels (IDNA).
 */
function checkDomainName(
  text: string,
  start: number,
  end: number,
  options: GrammarOptions,
): GrammarFailure | null {
  if (start >= end) return 'syntax';
  let labelStart = start;
  let ascii = true;
  for (let index = start; index <= end; index++) {
    const code = index < end ? text.charCodeAt(index) : 46; // a virtual "." closes the last label
    if (code === 46) {
      const labelLength = index - labelStart;
      if (labelLength === 0) return 'syntax';
      if (text.charCodeAt(index - 1) === 45 || text.charCodeAt(labelStart) === 45) return 'syntax'; // no edge "-"
      if (ascii && labelLength > maxLabelOctets) return 'syntax';
      labelStart = index + 1;
    } else if (isLetterOrDigit(code) || code === 45) {
      // LDH
    } else if (code === 95 && options.lenient) {
      // "_" in lenient mode
    } else if (code >= 0x80) {
      if (!options.utf8) return 'utf8';
      if (code <= 0x9f) return 'syntax'; // C1 controls are no U-label characters
      ascii = false;
    } else {
      return 'syntax';
    }
  }
  const octets = ascii ? end - start : utf8ByteLength(text, start, end);
  if (octets > maxDomainOctets) return 'length';
  // RFC 6531 §3.2, RFC 5891 §5.4: UTF-8 labels must be U-labels, names DNS can look up as A-labels.
  if (!ascii && domainToAscii(text.slice(start, end)) === null) return 'syntax';
  return null;
}

/** `Standardized-tag ":" 1*dcontent`; Standardized-tag = Ldh-str, dcontent = %d33-90 / %d94-126. */
function readGeneralLiteral(inner: string, colon: number): Domain | GrammarFailure {
  const tag = inner.slice(0, colon);
  const content = inner.slice(colon + 1);
  if (tag.length === 0 || content.length === 0) return 'syntax';
  for (let index = 0; index < tag.length; index++) {
    const code = tag.charCodeAt(index);
    if (!isLetterOrDigit(code) && code !== 45) return 'syntax';
  }
  if (tag.charCodeAt(tag.length - 1) === 45) return 'syntax'; // Ldh-str ends in Let-dig
  for (let index = 0; index < content.length; index++) {
    const code = content.charCodeAt(index);
    if (code < 33 || code > 126 || (code >= 91 && code <= 93)) return 'syntax';
  }
  return { kind: 'general', tag, content };
}

function readAddressLiteral(inner: string, options: GrammarOptions): Domain | GrammarFailure {
  const colon = inner.indexOf(':');
  if (colon === -1) return isIpv4Address(inner) ? { kind: 'ipv4', address: inner } : 'syntax';
  // "IPv6:" is a case-insensitive ABNF literal; once the tag says IPv6 the content must be IPv6.
  if (colon === 4 && inner.slice(0, 5).toLowerCase() === 'ipv6:') {
    const address = inner.slice(5);
    return isIpv6Address(address, options.lenient) ? { kind: 'ipv6', address } : 'syntax';
  }
  return readGeneralLiteral(inner, colon);
}

/** Reads the Domain / address-literal that is exactly text[start, end). */
export function readDomain(
  text: string,
  start: number,
  end: number,
  options: GrammarOptions,
): Domain | GrammarFailure {
  if (text.charCodeAt(start) === 91) {
    if (end - start < 3 || text.charCodeAt(end - 1) !== 93) return 'syntax';
    return readAddressLiteral(text.slice(start + 1, end - 1), options);
  }
  const failure = checkDomainName(text, start, end, options);
  if (failure !== null) return failure;
  return { kind: 'name', name: start === 0 && end === text.length ? text : text.slice(start, end) };
}

/**
 * Where a domain starting at `start` ends: after the closing "]" of a literal, or at the first
 * `terminator` (">" in a path, " " after a bare lenient path) or `limit`. Validation is readDomain's job.
 */
export function findDomainEnd(text: string, start: number, limit: number, terminator: string): number {
  const close = text.charCodeAt(start) === 91 ? text.indexOf(']', start) : text.indexOf(terminator, start);
  if (close === -1 || close >= limit) return limit;
  return text.charCodeAt(start) === 91 ? close + 1 : close;
}
