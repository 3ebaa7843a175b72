// MAIL FROM parameters: SIZE (RFC 1870), BODY (RFC 6152, RFC 3030), SMTPUTF8 (RFC 6531), RET and ENVID
// (RFC 3461 §4.3, §4.4), AUTH (RFC 4954 §5), BY (RFC 2852), REQUIRETLS (RFC 8689).

import { decodeXtext, encodeXtext } from '../bytes/xtext.js';
import { SmtpUsageError } from '../errors.js';
import type { ParseResult } from '../parse-result.js';
import type { BodyType, CommandSyntax, DsnReturn, EsmtpParameter, MailParameters } from './command.js';
import {
  isRepeated,
  serializeParameter,
  serializeUnknownParameters,
  splitParameters,
} from './esmtp-parameters.js';
import { rejection } from './rejection.js';

type Writable<T> = { -readonly [K in keyof T]: T[K] };

/** No parameters: shared, frozen, so the common `MAIL FROM:<a@b>` allocates nothing for them. */
export const noMailParameters: MailParameters = Object.freeze({
  unknown: Object.freeze([]) as readonly EsmtpParameter[],
});

const mailKeywords = ['SIZE', 'BODY', 'SMTPUTF8', 'RET', 'ENVID', 'AUTH', 'BY', 'REQUIRETLS'];
/** RFC 3461 §4.4 and §9: at most 100 characters, printable ASCII (graphic and white space) before encoding. */
const maxEnvidLength = 100;
const printableEnvid = /^[\u0020-\u007e\t]*$/;
/** Decoded AUTH= mailboxes and other free text must not smuggle line breaks or controls downstream. */
const controlCharacter = /[\u0000-\u001f\u007f]/;
/** RFC 1870: size-value = 1*20DIGIT; we keep what a JS number holds exactly. */
const sizeValue = /^[0-9]{1,20}$/;
/** RFC 2852 §4: by-value = by-time ";" by-mode [by-trace], by-time = ["-" / "+"] 1*9digit. */
const byValue = /^([-+]?)([0-9]{1,9});([NnRr])([Tt]?)$/;

function parseSize(value: string | null): number | null {
  if (value === null || !sizeValue.test(value)) return null;
  const size = Number(value);
  return Number.isSafeInteger(size) ? size : null;
}

function parseBody(value: string | null): BodyType | null {
  const upper = value?.toUpperCase();
  return upper === '7BIT' || upper === '8BITMIME' || upper === 'BINARYMIME' ? upper : null;
}

function parseReturn(value: string | null): DsnReturn | null {
  const upper = value?.toUpperCase();
  return upper === 'FULL' || upper === 'HDRS' ? upper : null;
}

function parseBy(value: string | null): NonNullable<MailParameters['by']> | null {
  const match = value === null ? null : byValue.exec(value);
  if (match === null) return null;
  const magnitude = Number(match[2]);
  // -0 would not deep-equal 0; a zero by-time has one value.
  const seconds = match[1] === '-' && magnitude !== 0 ? -magnitude : magnitude;
  return { seconds, mode: match[3]!.toUpperCase() as 'N' | 'R', trace: match[4] !== '' };
}

/** Types a split parameter list; null for a bad value or a repeated keyword (→ 501 5.5.4). */
export function typeMailParameters(list: readonly EsmtpParameter[]): MailParameters | null {
  const typed: Writable<MailParameters> = { unknown: [] };
  const unknown: EsmtpParameter[] = [];
  for (let index = 0; index < list.length; index++) {
    const parameter = list[index]!;
    const { keyword, value } = parameter;
    if (isRepeated(list, index)) return null;
    switch (keyword) {
      case 'SIZE': {
        const size = parseSize(value);
        if (size === null) return null;
        typed.size = size;
        break;
      }
      case 'BODY': {
        const body = parseBody(value);
        if (body === null) return null;
        typed.body = body;
        break;
      }
      case 'SMTPUTF8':
        if (value !== null) return null;
        typed.smtpUtf8 = true;
        break;
      case 'RET': {
        const ret = parseReturn(value);
        if (ret === null) return null;
        typed.ret = ret;
        break;
      }
      case 'ENVID': {
        if (value === null || value.length > maxEnvidLength) return null;
        const envid = decodeXtext(value);
        if (envid === null || !printableEnvid.test(envid)) return null;
        typed.envid = envid;
        break;
      }
      case 'AUTH': {
        if (value === null) return null;
        if (value === '<>') {
          typed.auth = null;
          break;
        }
        const auth = decodeXtext(value);
        if (auth === null || auth.length === 0 || controlCharacter.test(auth)) return null;
        typed.auth = auth;
        break;
      }
      case 'BY': {
        const by = parseBy(value);
        if (by === null) return null;
        typed.by = by;
        break;
      }
      case 'REQUIRETLS':
        if (value !== null) return null;
        typed.requireTls = true;
        break;
      default:
        unknown.push(parameter);
    }
  }
  typed.unknown = unknown;
  return typed;
}

/**
 * Parses a MAIL parameter list such as `SIZE=1000 BODY=8BITMIME` ("" → none). Unknown keywords are
 * kept in `unknown` (the session answers 555); bad values and repeats → 501 5.5.4.
 */
export function parseMailParameters(text: string, syntax: CommandSyntax): ParseResult<MailParameters> {
  const input = syntax.mode === 'lenient' ? text.trim() : text;
  if (input.length === 0) return { ok: true, value: noMailParameters };
  const list = splitParameters(input, 0, { lenient: syntax.mode === 'lenient', utf8: syntax.smtpUtf8 });
  const typed = list === null ? null : typeMailParameters(list);
  return typed === null ? rejection('syntaxErrorInParameters') : { ok: true, value: typed };
}

function serializeEnvid(envid: string): string {
  const encoded = encodeXtext(envid);
  if (envid.length === 0 || !printableEnvid.test(envid) || encoded.length > maxEnvidLength) {
    throw new SmtpUsageError('ENVID must be 1 to 100 characters of printable ASCII as xtext (RFC 3461 §4.4)');
  }
  return encoded;
}

function serializeAuth(auth: string | null): string {
  if (auth === null) return '<>';
  if (auth.length === 0 || controlCharacter.test(auth))
    throw new SmtpUsageError('AUTH= needs a mailbox without controls');
  // A mailbox spelled "<>" must not read back as the null value.
  return auth === '<>' ? '+3C+3E' : encodeXtext(auth);
}

function serializeBy(by: NonNullable<MailParameters['by']>): string {
  if (!Number.isInteger(by.seconds) || Math.abs(by.seconds) > 999_999_999) {
    throw new SmtpUsageError('BY= seconds must be an integer of at most 9 digits (RFC 2852)');
  }
  return `${by.seconds};${by.mode}${by.trace ? 'T' : ''}`;
}

/** The parameters as they follow the path, separated by SP; "" when there are none. */
export function serializeMailParameters(parameters: MailParameters): string {
  const written: string[] = [];
  if (parameters.size !== undefined) {
    if (!Number.isSafeInteger(parameters.size) || parameters.size < 0) {
      throw new SmtpUsageError(`SIZE must be a non-negative safe integer, got ${parameters.size}`);
    }
    written.push(`SIZE=${parameters.size}`);
  }
  if (parameters.body !== undefined) written.push(`BODY=${parameters.body}`);
  if (parameters.smtpUtf8 === true) written.push('SMTPUTF8');
  if (parameters.ret !== undefined) written.push(`RET=${parameters.ret}`);
  if (parameters.envid !== undefined) written.push(`ENVID=${serializeEnvid(parameters.envid)}`);
  if (parameters.auth !== undefined) written.push(serializeParameter('AUTH', serializeAuth(parameters.auth)));
  if (parameters.by !== undefined) written.push(`BY=${serializeBy(parameters.by)}`);
  if (parameters.requireTls === true) written.push('REQUIRETLS');
  if (parameters.unknown.length > 0)
    written.push(...serializeUnknownParameters(parameters.unknown, mailKeywords));
  return written.join(' ');
}
