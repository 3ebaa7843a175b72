// RFC 5321 §4.1.2: Mail-parameters / Rcpt-parameters = esmtp-param *(SP esmtp-param)
//   esmtp-param   = esmtp-keyword ["=" esmtp-value]
//   esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
//   esmtp-value   = 1*(%d33-60 / %d62-126)   ; RFC 6531 §3.3 adds UTF8-non-ascii under SMTPUTF8

import type { GrammarOptions } from '../address/grammar-options.js';
import { SmtpUsageError } from '../errors.js';
import type { EsmtpParameter } from './command.js';

function isAlphaNumeric(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}

function isEsmtpKeyword(text: string, start: number, end: number): boolean {
  if (start >= end || !isAlphaNumeric(text.charCodeAt(start))) return false;
  for (let index = start + 1; index < end; index++) {
    const code = text.charCodeAt(index);
    if (!isAlphaNumeric(code) && code !== 45) return false;
  }
  return true;
}

function isEsmtpValue(text: string, start: number, end: number, utf8: boolean): boolean {
  if (start >= end) return false;
  for (let index = start; index < end; index++) {
    const code = text.charCodeAt(index);
    if (code >= 33 && code <= 126 && code !== 61) continue;
    if (utf8 && code >= 0xa0) continue;
    return false;
  }
  return true;
}

function isSpace(code: number, lenient: boolean): boolean {
  return code === 32 || (lenient && code === 9);
}

/**
 * Splits text[start..] into parameters, keywords uppercased. Strict mode wants exactly one SP between
 * parameters; lenient mode takes runs of spaces and tabs. Null when the list breaks the grammar.
 */
export function splitParameters(
  text: string,
  start: number,
  options: GrammarOptions,
): EsmtpParameter[] | null {
  const parameters: EsmtpParameter[] = [];
  const lenient = options.lenient;
  let index = start;
  const end = text.length;
  if (index >= end) return null; // "SP" must be followed by a parameter
  while (index < end) {
    let tokenEnd = index;
    let equals = -1;
    while (tokenEnd < end) {
      const code = text.charCodeAt(tokenEnd);
      if (isSpace(code, lenient)) break;
      if (code === 61 && equals === -1) equals = tokenEnd;
      tokenEnd++;
    }
    const keywordEnd = equals === -1 ? tokenEnd : equals;
    if (!isEsmtpKeyword(text, index, keywordEnd)) return null;
    let value: string | null = null;
    if (equals !== -1) {
      if (!isEsmtpValue(text, equals + 1, tokenEnd, options.utf8)) return null;
      value = text.slice(equals + 1, tokenEnd);
    }
    parameters.push({ keyword: text.slice(index, keywordEnd).toUpperCase(), value });
    index = tokenEnd;
    if (index < end) {
      index++;
      if (lenient) while (index < end && isSpace(text.charCodeAt(index), true)) index++;
      else if (index >= end) return null; // a trailing SP
    }
  }
  return parameters;
}

/** True when list[index]'s keyword already appeared before it (a repeat is a 501 5.5.4). */
export function isRepeated(list: readonly EsmtpParameter[], index: number): boolean {
  const keyword = list[index]!.keyword;
  for (let earlier = 0; earlier < index; earlier++) if (list[earlier]!.keyword === keyword) return true;
  return false;
}

/** `KEYWORD[=value]` for the wire; refuses what would not parse back (our caller's bug). */
export function serializeParameter(keyword: string, value: string | null): string {
  if (!isEsmtpKeyword(keyword, 0, keyword.length))
    throw new SmtpUsageError(`Invalid ESMTP keyword: ${JSON.stringify(keyword)}`);
  if (value === null) return keyword;
  if (!isEsmtpValue(value, 0, value.length, true)) {
    throw new SmtpUsageError(`Invalid value for ESMTP parameter ${keyword}: ${JSON.stringify(value)}`);
  }
  return `${keyword}=${value}`;
}

/** Checks the unknown parameters a caller wants to send: valid, not duplicated, not one we type. */
export function serializeUnknownParameters(
  parameters: readonly EsmtpParameter[],
  known: readonly string[],
): string[] {
  const written: string[] = [];
  const seen = new Set<string>();
  for (const { keyword, value } of parameters) {
    const upper = keyword.toUpperCase();
    if (known.includes(upper) || seen.has(upper)) {
      throw new SmtpUsageError(`ESMTP parameter ${upper} is typed or repeated; set it through its field`);
    }
    seen.add(upper);
    written.push(serializeParameter(upper, value));
  }
  return written;
}
