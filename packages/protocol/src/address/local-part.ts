// RFC 5321 §4.1.2 Local-part = Dot-string / Quoted-string; RFC 6531 §3.3 adds UTF8-non-ascii to atext
// and qtextSMTP.

import { utf8ByteLength } from '../bytes/utf8.js';
import { SmtpUsageError } from '../errors.js';
import type { GrammarFailure, GrammarOptions } from './grammar-options.js';

/** RFC 5321 §4.5.3.1.1 */
export const maxLocalPartOctets = 64;

/** RFC 5322 §3.2.3 atext: ALPHA / DIGIT / "!#$%&'*+-/=?^_`{|}~". 1 = allowed. */
const atext = new Uint8Array(128);
for (let code = 0; code < 128; code++) {
  const isAlphaNumeric =
    (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
  if (isAlphaNumeric || "!#$%&'*+-/=?^_`{|}~".includes(String.fromCharCode(code))) atext[code] = 1;
}

/** qtextSMTP = %d32-33 / %d35-91 / %d93-126: printable ASCII and space, except `"` and `\`. */
function isQtext(code: number): boolean {
  return code >= 32 && code <= 126 && code !== 34 && code !== 92;
}

/** UTF8-non-ascii as a JS character: anything from U+00A0 on (C1 controls excluded). */
function isNonAsciiText(code: number): boolean {
  return code >= 0xa0;
}

/** A local part read from a path: its decoded value and the index of the "@" after it. */
export interface LocalPartScan {
  readonly localPart: string;
  readonly end: number;
}

function readQuotedString(
  text: string,
  start: number,
  limit: number,
  options: GrammarOptions,
): LocalPartScan | GrammarFailure {
  let hasEscapes = false;
  for (let index = start + 1; index < limit; index++) {
    const code = text.charCodeAt(index);
    if (code === 34) {
      const raw = text.slice(start + 1, index);
      // quoted-pairSMTP = "\" %d32-126: drop the backslash, keep the character.
      return { localPart: hasEscapes ? raw.replace(/\\(.)/g, '$1') : raw, end: index + 1 };
    }
    if (code === 92) {
      const escaped = text.charCodeAt(index + 1);
      if (!(escaped >= 32 && escaped <= 126)) return escaped >= 0x80 && !options.utf8 ? 'utf8' : 'syntax';
      hasEscapes = true;
      index++;
    } else if (!isQtext(code)) {
      if (code < 0x80) return 'syntax';
      if (!options.utf8) return 'utf8';
      if (!isNonAsciiText(code)) return 'syntax';
    }
  }
  return 'syntax'; // no closing quote
}

/**
 * Dot-string = Atom *("." Atom). Lenient mode accepts empty atoms (`a..b`, `a.`, `.a`), which some
 * large mail providers hand out; they are serialized back as quoted strings.
 */
function readDotString(
  text: string,
  start: number,
  limit: number,
  options: GrammarOptions,
): LocalPartScan | GrammarFailure {
  let previous = 46; // a virtual "." before the start: an atom must begin here
  let index = start;
  for (; index < limit; index++) {
    const code = text.charCodeAt(index);
    if (code < 128) {
      if (atext[code] === 1) {
        previous = code;
        continue;
      }
      if (code !== 46) break;
      if (previous === 46 && !options.lenient) return 'syntax';
      previous = code;
    } else {
      if (!options.utf8) return 'utf8';
      if (!isNonAsciiText(code)) return 'syntax';
      previous = code;
    }
  }
  if (index === start) return 'syntax';
  if (previous === 46 && !options.lenient) return 'syntax';
  return { localPart: text.slice(start, index), end: index };
}

/** Reads the local part at text[start] up to (not including) its "@". */
export function readLocalPart(
  text: string,
  start: number,
  limit: number,
  options: GrammarOptions,
): LocalPartScan | GrammarFailure {
  const scan =
    text.charCodeAt(start) === 34
      ? readQuotedString(text, start, limit, options)
      : readDotString(text, start, limit, options);
  if (typeof scan === 'string') return scan;
  if (text.charCodeAt(scan.end) !== 64) return 'syntax';
  // RFC 5321 §4.5.3.1.1, counted as written (quotes and escapes included): that is what travels.
  if (!options.lenient) {
    const octets = options.utf8 ? utf8ByteLength(text, start, scan.end) : scan.end - start;
    if (octets > maxLocalPartOctets) return 'length';
  }
  return scan;
}

/** True when `localPart` can be written as a Dot-string, i.e. without quotes. */
export function isDotString(localPart: string): boolean {
  if (localPart.length === 0) return false;
  let previous = 46;
  for (let index = 0; index < localPart.length; index++) {
    const code = localPart.charCodeAt(index);
    if (code === 46) {
      if (previous === 46) return false;
    } else if (code < 128 ? atext[code] !== 1 : !isNonAsciiText(code)) {
      return false;
    }
    previous = code;
  }
  return previous !== 46;
}

/**
 * The local part as it goes on the wire: as is when it is a Dot-string, else a Quoted-string with
 * `"` and `\` escaped. Characters no Quoted-string can carry (controls, CR, LF) are our caller's bug.
 */
export function serializeLocalPart(localPart: string): string {
  if (isDotString(localPart)) return localPart;
  let quoted = '"';
  for (let index = 0; index < localPart.length; index++) {
    const code = localPart.charCodeAt(index);
    if (code === 34 || code === 92) quoted += '\\';
    else if (code < 32 || code === 127 || (code >= 0x80 && !isNonAsciiText(code))) {
      throw new SmtpUsageError(
        `A local part cannot contain the control character U+${code.toString(16).padStart(4, '0')}`,
      );
    }
    quoted += localPart[index];
  }
  return `${quoted}"`;
}
