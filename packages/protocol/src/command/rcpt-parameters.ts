// RCPT TO parameters: each known keyword's grammar is its extension's descriptor (extension/), listed in
// the rcptParameters table; this module splits, types and writes the list.

import { notifyParameter } from '../extension/dsn-extension.js';
import type { RcptParameter } from '../extension/esmtp-extension.js';
import { rcptParameters } from '../extension/esmtp-extensions.js';
import type { ParseResult } from '../parse-result.js';
import type { CommandSyntax, EsmtpParameter, RcptParameters } from './command.js';
import {
  isRepeated,
  serializeParameter,
  serializeUnknownParameters,
  splitParameters,
} from './esmtp-parameters.js';
import { rejection } from './rejection.js';

/** The table as [field, descriptor], in wire order. */
export const rcptParameterEntries = Object.entries(rcptParameters) as readonly (readonly [
  keyof typeof rcptParameters,
  RcptParameter<unknown>,
])[];
const rcptKeywords = rcptParameterEntries.map(([, parameter]) => parameter.keyword);

/** The table by keyword, built once; every entry has one shape, so reading one stays monomorphic. */
const byKeyword: ReadonlyMap<string, TypedParameterEntry> = new Map(
  rcptParameterEntries.map(([field, parameter]) => [
    parameter.keyword,
    { field, parse: parameter.parse } satisfies TypedParameterEntry,
  ]),
);

interface TypedParameterEntry {
  readonly field: string;
  readonly parse: RcptParameter<unknown>['parse'];
}

/** No parameters: shared and frozen, so the common `RCPT TO:<a@b>` allocates nothing for them. */
export const noRcptParameters: RcptParameters = Object.freeze({
  unknown: Object.freeze([]) as readonly EsmtpParameter[],
});

/** Types a split parameter list; null for a bad value or a repeated keyword (→ 501 5.5.4). */
export function typeRcptParameters(list: readonly EsmtpParameter[], lenient: boolean): RcptParameters | null {
  const typed: Record<string, unknown> = {};
  const unknown: EsmtpParameter[] = [];
  for (let index = 0; index < list.length; index++) {
    const parameter = list[index]!;
    if (isRepeated(list, index)) return null;
    const { keyword } = parameter;
    // NOTIFY rides on most RCPT commands that have parameters: called directly, its parse is inlined and
    // the field is a named store; the others share one call site through the table.
    if (keyword === 'NOTIFY') {
      const notify = notifyParameter.parse(parameter.value, lenient);
      if (notify === undefined) return null;
      typed.notify = notify;
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
  return typed as unknown as RcptParameters;
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

/** The parameters as they follow the path, separated by SP; "" when there are none. */
export function serializeRcptParameters(parameters: RcptParameters): string {
  const written: string[] = [];
  const values = parameters as unknown as Readonly<Record<string, unknown>>;
  for (const [field, parameter] of rcptParameterEntries) {
    const value = values[field];
    if (value === undefined) continue;
    written.push(serializeParameter(parameter.keyword, parameter.serialize(value)));
  }
  if (parameters.unknown.length > 0)
    written.push(...serializeUnknownParameters(parameters.unknown, rcptKeywords));
  return written.join(' ');
}

/** Each typed parameter as the keyword and the value a person reads (decoded), in wire order. */
export function describeRcptParameters(parameters: RcptParameters): [keyword: string, value: string][] {
  const described: [string, string][] = [];
  const values = parameters as unknown as Readonly<Record<string, unknown>>;
  for (const [field, parameter] of rcptParameterEntries) {
    const value = values[field];
    if (value === undefined) continue;
    described.push([parameter.keyword, parameter.describe?.(value) ?? parameter.serialize(value) ?? '']);
  }
  for (const { keyword, value } of parameters.unknown) described.push([keyword, value ?? '']);
  return described;
}
