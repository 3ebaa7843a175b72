// RCPT TO parameters: NOTIFY and ORCPT (RFC 3461 §4.1, §4.2).

import { decodeUtf8AddressText, encodeUtf8AddressXtext } from '../bytes/utf8-address-text.js';
import { decodeXtext, encodeXtext } from '../bytes/xtext.js';
import { SmtpUsageError } from '../errors.js';
import type { ParseResult } from '../parse-result.js';
import type { CommandSyntax, DsnNotify, EsmtpParameter, RcptParameters } from './command.js';
import { isRepeated, serializeUnknownParameters, splitParameters } from './esmtp-parameters.js';
import { rejection } from './rejection.js';

type Writable<T> = { -readonly [K in keyof T]: T[K] };
type NotifyEvent = 'SUCCESS' | 'FAILURE' | 'DELAY';

/** No parameters: shared and frozen, so the common `RCPT TO:<a@b>` allocates nothing for them. */
export const noRcptParameters: RcptParameters = Object.freeze({
  unknown: Object.freeze([]) as readonly EsmtpParameter[],
});

const rcptKeywords = ['NOTIFY', 'ORCPT'];
/** RFC 3461 §4.2 and §9: "The entire ORCPT parameter MAY be up to 500 characters". */
const maxOrcptLength = 500;
/** addr-type = atom (RFC 5322 atext), less "=" which no esmtp-value may contain. */
const addressType = /^[A-Za-z0-9!#$%&'*+\-/?^_`{|}~]+$/;
const controlCharacter = /[\u0000-\u001f\u007f]/;

/**
 * notify-esmtp-value = "NEVER" / 1#notify-list-element (RFC 3461 §4.1): NEVER never combines.
 * Repeated elements are refused in strict mode and merged in lenient mode.
 */
function parseNotify(value: string | null, lenient: boolean): DsnNotify | null {
  if (value === null) return null;
  const upper = value.toUpperCase();
  if (upper === 'NEVER') return 'NEVER';
  const events: NotifyEvent[] = [];
  // Walks the commas in place: no split() array, no substrings.
  for (let start = 0; ; ) {
    const comma = upper.indexOf(',', start);
    const end = comma === -1 ? upper.length : comma;
    const event = notifyEventAt(upper, start, end);
    if (event === null) return null;
    if (!events.includes(event)) events.push(event);
    else if (!lenient) return null;
    if (comma === -1) return events;
    start = comma + 1;
  }
}

const notifyEvents: readonly NotifyEvent[] = ['SUCCESS', 'FAILURE', 'DELAY'];

/** The notify-list-element that is exactly text[start, end), or null. */
function notifyEventAt(text: string, start: number, end: number): NotifyEvent | null {
  for (const event of notifyEvents)
    if (end - start === event.length && text.startsWith(event, start)) return event;
  return null;
}

/** The "utf-8" address type (RFC 6533 §3) has an encoding of its own; every other type is xtext. */
function isUtf8AddressType(type: string): boolean {
  return type.length === 5 && type.toLowerCase() === 'utf-8';
}

/** original-recipient-address = addr-type ";" xtext (RFC 3461 §4.2), or "utf-8;" utf-8-enc-addr */
function parseOrcpt(value: string | null): NonNullable<RcptParameters['orcpt']> | null {
  if (value === null || value.length > maxOrcptLength) return null;
  const semicolon = value.indexOf(';');
  if (semicolon === -1) return null;
  const type = value.slice(0, semicolon);
  const encoded = value.slice(semicolon + 1);
  const address = isUtf8AddressType(type) ? decodeUtf8AddressText(encoded) : decodeXtext(encoded);
  if (!addressType.test(type) || address === null || address.length === 0 || controlCharacter.test(address))
    return null;
  return { addressType: type, address };
}

/** Types a split parameter list; null for a bad value or a repeated keyword (→ 501 5.5.4). */
export function typeRcptParameters(list: readonly EsmtpParameter[], lenient: boolean): RcptParameters | null {
  const typed: Writable<RcptParameters> = { unknown: [] };
  const unknown: EsmtpParameter[] = [];
  for (let index = 0; index < list.length; index++) {
    const parameter = list[index]!;
    const { keyword, value } = parameter;
    if (isRepeated(list, index)) return null;
    if (keyword === 'NOTIFY') {
      const notify = parseNotify(value, lenient);
      if (notify === null) return null;
      typed.notify = notify;
    } else if (keyword === 'ORCPT') {
      const orcpt = parseOrcpt(value);
      if (orcpt === null) return null;
      typed.orcpt = orcpt;
    } else {
      unknown.push(parameter);
    }
  }
  typed.unknown = unknown;
  return typed;
}

/** Parses a RCPT parameter list such as `NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;a@b` ("" → none). */
export function parseRcptParameters(text: string, syntax: CommandSyntax): ParseResult<RcptParameters> {
  const lenient = syntax.mode === 'lenient';
  const input = lenient ? text.trim() : text;
  if (input.length === 0) return { ok: true, value: noRcptParameters };
  const list = splitParameters(input, 0, { lenient, utf8: syntax.smtpUtf8 });
  const typed = list === null ? null : typeRcptParameters(list, lenient);
  return typed === null ? rejection('syntaxErrorInParameters') : { ok: true, value: typed };
}

function serializeNotify(notify: DsnNotify): string {
  if (notify === 'NEVER') return notify;
  if (notify.length === 0 || new Set(notify).size !== notify.length) {
    throw new SmtpUsageError('NOTIFY needs NEVER or a non-empty list without repeats (RFC 3461 §4.1)');
  }
  return notify.join(',');
}

function serializeOrcpt(orcpt: NonNullable<RcptParameters['orcpt']>): string {
  // RFC 6533 §3: the 7-bit form, valid whether or not the session has SMTPUTF8.
  const encoded = isUtf8AddressType(orcpt.addressType)
    ? encodeUtf8AddressXtext(orcpt.address)
    : encodeXtext(orcpt.address);
  const value = `${orcpt.addressType};${encoded}`;
  if (
    !addressType.test(orcpt.addressType) ||
    orcpt.address.length === 0 ||
    controlCharacter.test(orcpt.address)
  ) {
    throw new SmtpUsageError(
      'ORCPT needs an atom address type and an address without controls (RFC 3461 §4.2)',
    );
  }
  if (value.length > maxOrcptLength)
    throw new SmtpUsageError('ORCPT is limited to 500 characters (RFC 3461 §9)');
  return value;
}

/** The parameters as they follow the path, separated by SP; "" when there are none. */
export function serializeRcptParameters(parameters: RcptParameters): string {
  const written: string[] = [];
  if (parameters.notify !== undefined) written.push(`NOTIFY=${serializeNotify(parameters.notify)}`);
  if (parameters.orcpt !== undefined) written.push(`ORCPT=${serializeOrcpt(parameters.orcpt)}`);
  if (parameters.unknown.length > 0)
    written.push(...serializeUnknownParameters(parameters.unknown, rcptKeywords));
  return written.join(' ');
}
