// MAIL FROM parameters: each known keyword's grammar is its extension's descriptor (extension/), listed
// in the mailParameters table; this module splits, types and writes the list.

import { bodyParameter } from '../extension/body-extensions.js';
import type { MailParameter } from '../extension/esmtp-extension.js';
import { mailParameters } from '../extension/esmtp-extensions.js';
import { sizeParameter } from '../extension/size-extension.js';
import type { ParseResult } from '../parse-result.js';
import type { CommandSyntax, EsmtpParameter, MailParameters } from './command.js';
import {
  isRepeated,
  serializeParameter,
  serializeUnknownParameters,
  splitParameters,
} from './esmtp-parameters.js';
import { rejection } from './rejection.js';

/** The table as [field, descriptor], in wire order. */
export const mailParameterEntries = Object.entries(mailParameters) as readonly (readonly [
  keyof typeof mailParameters,
  MailParameter<unknown>,
])[];
const mailKeywords = mailParameterEntries.map(([, parameter]) => parameter.keyword);

/**
 * The table by keyword, built once. Every entry has one shape (field, then parse), so reading an entry
 * stays monomorphic even though the descriptors' own shapes differ (some have describe or grant).
 */
const byKeyword: ReadonlyMap<string, TypedParameterEntry> = new Map(
  mailParameterEntries.map(([field, parameter]) => [
    parameter.keyword,
    { field, parse: parameter.parse } satisfies TypedParameterEntry,
  ]),
);

interface TypedParameterEntry {
  readonly field: string;
  readonly parse: MailParameter<unknown>['parse'];
}

/** No parameters: shared, frozen, so the common `MAIL FROM:<a@b>` allocates nothing for them. */
export const noMailParameters: MailParameters = Object.freeze({
  unknown: Object.freeze([]) as readonly EsmtpParameter[],
});

/** Types a split parameter list; null for a bad value or a repeated keyword (→ 501 5.5.4). */
export function typeMailParameters(list: readonly EsmtpParameter[], lenient = false): MailParameters | null {
  const typed: Record<string, unknown> = {};
  const unknown: EsmtpParameter[] = [];
  for (let index = 0; index < list.length; index++) {
    const parameter = list[index]!;
    if (isRepeated(list, index)) return null;
    const { keyword } = parameter;
    // SIZE and BODY ride on most MAIL commands that have parameters: called directly, their parse is
    // inlined and the field is a named store; the others share one call site through the table.
    if (keyword === 'SIZE') {
      const size = sizeParameter.parse(parameter.value, lenient);
      if (size === undefined) return null;
      typed.size = size;
      continue;
    }
    if (keyword === 'BODY') {
      const body = bodyParameter.parse(parameter.value, lenient);
      if (body === undefined) return null;
      typed.body = body;
      continue;
    }
    const entry = byKeyword.get(keyword);
    if (entry === undefined) {
      unknown.push(parameter);
      continue;
    }
    const value = entry.parse(parameter.value, lenient);
    if (value === undefined) return null;
    typed[entry.field] = value;
  }
  typed.unknown = unknown;
  return typed as unknown as MailParameters;
}

/**
 * Parses a MAIL parameter list such as `SIZE=1000 BODY=8BITMIME` ("" → none). Unknown keywords are
 * kept in `unknown` (the session answers 555); bad values and repeats → 501 5.5.4.
 */
export function parseMailParameters(text: string, syntax: CommandSyntax): ParseResult<MailParameters> {
  const lenient = syntax.mode === 'lenient';
  const input = lenient ? text.trim() : text;
  if (input.length === 0) return { ok: true, value: noMailParameters };
  const list = splitParameters(input, 0, { lenient, utf8: syntax.smtpUtf8 });
  const typed = list === null ? null : typeMailParameters(list, lenient);
  return typed === null ? rejection('syntaxErrorInParameters') : { ok: true, value: typed };
}

/** The parameters as they follow the path, separated by SP; "" when there are none. */
export function serializeMailParameters(parameters: MailParameters): string {
  const written: string[] = [];
  const values = parameters as unknown as Readonly<Record<string, unknown>>;
  for (const [field, parameter] of mailParameterEntries) {
    const value = values[field];
    // No typed value is ever `false`: a JavaScript caller's `smtpUtf8: false` means "not set".
    if (value === undefined || value === false) continue;
    written.push(serializeParameter(parameter.keyword, parameter.serialize(value)));
  }
  if (parameters.unknown.length > 0)
    written.push(...serializeUnknownParameters(parameters.unknown, mailKeywords));
  return written.join(' ');
}

/** Each typed parameter as the keyword and the value a person reads (decoded), in wire order. */
export function describeMailParameters(parameters: MailParameters): [keyword: string, value: string][] {
  const described: [string, string][] = [];
  const values = parameters as unknown as Readonly<Record<string, unknown>>;
  for (const [field, parameter] of mailParameterEntries) {
    const value = values[field];
    if (value === undefined || value === false) continue;
    described.push([parameter.keyword, parameter.describe?.(value) ?? parameter.serialize(value) ?? '']);
  }
  for (const { keyword, value } of parameters.unknown) described.push([keyword, value ?? '']);
  return described;
}
