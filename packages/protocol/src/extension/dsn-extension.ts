// DSN (RFC 3461): the EHLO keyword, the MAIL parameters RET and ENVID (§4.3, §4.4) and the RCPT
// parameters NOTIFY and ORCPT (§4.1, §4.2).

import { decodeUtf8AddressText, encodeUtf8AddressXtext } from '../bytes/utf8-address-text.js';
import { decodeXtext, encodeXtext } from '../bytes/xtext.js';
import type { DsnNotify, DsnReturn } from '../command/command.js';
import { SmtpCapabilityError, SmtpUsageError } from '../errors.js';
import type { Capabilities } from '../reply/capabilities.js';
import { replies } from '../reply/reply-catalog.js';
import type { EsmtpExtension, MailParameter, RcptParameter } from './esmtp-extension.js';
import { flagCapability } from './flag-extension.js';

export const dsnExtension: EsmtpExtension<boolean, boolean, boolean> = {
  keyword: 'DSN',
  rfc: 'RFC 3461',
  meaning: 'delivery status notifications on request (RFC 3461)',
  capability: flagCapability,
  server: { option: 'dsn', resolve: (value) => value ?? true, offer: (options) => options.extensions.dsn },
  parameters: ['RET', 'ENVID', 'NOTIFY', 'ORCPT'],
};

/** DSN parameters need the DSN extension; checked before anything is sent. */
export function requireDsn(offered: Capabilities): void {
  if (!offered.dsn) throw new SmtpCapabilityError('DSN', 'DSN parameters need the DSN extension (RFC 3461)');
}

/** A CR or LF would end the command line early (command injection); NUL is never valid in a command. */
const lineBreaking = /[\r\n\0]/;

/** RFC 3461 §4.4 and §9: at most 100 characters, printable ASCII (graphic and white space) before encoding. */
const maxEnvidLength = 100;
const printableEnvid = /^[\u0020-\u007e\t]*$/;

export const retParameter: MailParameter<DsnReturn> = {
  keyword: 'RET',
  parse(value) {
    const upper = value?.toUpperCase();
    return upper === 'FULL' || upper === 'HDRS' ? upper : undefined;
  },
  serialize: (ret) => ret,
  check: (_value, { options }) => (options.extensions.dsn ? null : replies.unknownParameter),
  plan(envelope, _requested, { offered }) {
    const ret = envelope.dsn?.ret;
    if (ret !== undefined) requireDsn(offered);
    return ret;
  },
  request: (ret) => ({ dsn: { ret } }),
};

/**
 * What is wrong with an ENVID a sender wants to send, or null when it is fine: the one rule the client,
 * the CLI and the serialiser share (RFC 3461 §4.4: 1 to 100 characters of printable ASCII as xtext).
 */
export function envidProblem(envid: string): string | null {
  if (lineBreaking.test(envid)) return 'ENVID must not contain CR, LF or NUL';
  if (envid.length === 0 || !printableEnvid.test(envid) || encodeXtext(envid).length > maxEnvidLength)
    return 'ENVID must be 1 to 100 characters of printable ASCII as xtext (RFC 3461 §4.4)';
  return null;
}

export const envidParameter: MailParameter<string> = {
  keyword: 'ENVID',
  parse(value) {
    if (value === null || value.length > maxEnvidLength) return undefined;
    const envid = decodeXtext(value);
    return envid === null || !printableEnvid.test(envid) ? undefined : envid;
  },
  serialize(envid) {
    const problem = envidProblem(envid);
    if (problem !== null) throw new SmtpUsageError(problem);
    return encodeXtext(envid);
  },
  describe: (envid) => envid,
  check: (_value, { options }) => (options.extensions.dsn ? null : replies.unknownParameter),
  plan(envelope, _requested, { offered }) {
    const envid = envelope.dsn?.envid;
    if (envid === undefined) return undefined;
    const problem = envidProblem(envid);
    if (problem !== null) throw new SmtpUsageError(problem);
    requireDsn(offered);
    return envid;
  },
  request: (envid) => ({ dsn: { envid } }),
};

type NotifyEvent = 'SUCCESS' | 'FAILURE' | 'DELAY';
const notifyEvents: readonly NotifyEvent[] = ['SUCCESS', 'FAILURE', 'DELAY'];

/** The notify-list-element that is exactly text[start, end), or null. */
function notifyEventAt(text: string, start: number, end: number): NotifyEvent | null {
  for (const event of notifyEvents)
    if (end - start === event.length && text.startsWith(event, start)) return event;
  return null;
}

/**
 * notify-esmtp-value = "NEVER" / 1#notify-list-element (RFC 3461 §4.1): NEVER never combines.
 * Repeated elements are refused in strict mode and merged in lenient mode.
 */
export const notifyParameter: RcptParameter<DsnNotify> = {
  keyword: 'NOTIFY',
  parse(value, lenient) {
    if (value === null) return undefined;
    const upper = value.toUpperCase();
    if (upper === 'NEVER') return 'NEVER';
    const events: NotifyEvent[] = [];
    // Walks the commas in place: no split() array, no substrings.
    for (let start = 0; ; ) {
      const comma = upper.indexOf(',', start);
      const end = comma === -1 ? upper.length : comma;
      const event = notifyEventAt(upper, start, end);
      if (event === null) return undefined;
      if (!events.includes(event)) events.push(event);
      else if (!lenient) return undefined;
      if (comma === -1) return events;
      start = comma + 1;
    }
  },
  serialize(notify) {
    if (notify === 'NEVER') return notify;
    if (notify.length === 0 || new Set(notify).size !== notify.length) {
      throw new SmtpUsageError('NOTIFY needs NEVER or a non-empty list without repeats (RFC 3461 §4.1)');
    }
    return notify.join(',');
  },
  describe: (notify) => (notify === 'NEVER' ? notify : notify.join(',')),
  isOffered: (options) => options.extensions.dsn,
  plan(notify, { offered }) {
    if (Array.isArray(notify) && notify.length === 0) {
      throw new SmtpUsageError(
        'NOTIFY needs NEVER or at least one of SUCCESS, FAILURE, DELAY (RFC 3461 §4.1)',
      );
    }
    requireDsn(offered);
  },
};

/** RFC 3461 §4.2 and §9: "The entire ORCPT parameter MAY be up to 500 characters". */
const maxOrcptLength = 500;
/** addr-type = atom (RFC 5322 atext), less "=" which no esmtp-value may contain. */
const addressType = /^[A-Za-z0-9!#$%&'*+\-/?^_`{|}~]+$/;
const controlCharacter = /[\u0000-\u001f\u007f]/;

/** The "utf-8" address type (RFC 6533 §3) has an encoding of its own; every other type is xtext. */
function isUtf8AddressType(type: string): boolean {
  return type.length === 5 && type.toLowerCase() === 'utf-8';
}

export interface OriginalRecipient {
  readonly addressType: string;
  readonly address: string;
}

/** original-recipient-address = addr-type ";" xtext (RFC 3461 §4.2), or "utf-8;" utf-8-enc-addr */
export const orcptParameter: RcptParameter<OriginalRecipient> = {
  keyword: 'ORCPT',
  parse(value) {
    if (value === null || value.length > maxOrcptLength) return undefined;
    const semicolon = value.indexOf(';');
    if (semicolon === -1) return undefined;
    const type = value.slice(0, semicolon);
    const encoded = value.slice(semicolon + 1);
    const address = isUtf8AddressType(type) ? decodeUtf8AddressText(encoded) : decodeXtext(encoded);
    if (!addressType.test(type) || address === null || address.length === 0 || controlCharacter.test(address))
      return undefined;
    return { addressType: type, address };
  },
  serialize(orcpt) {
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
  },
  describe: (orcpt) => `${orcpt.addressType};${orcpt.address}`,
  isOffered: (options) => options.extensions.dsn,
  plan(orcpt, { offered }) {
    if (lineBreaking.test(orcpt.addressType))
      throw new SmtpUsageError('ORCPT address type must not contain CR, LF or NUL');
    if (lineBreaking.test(orcpt.address))
      throw new SmtpUsageError('ORCPT address must not contain CR, LF or NUL');
    requireDsn(offered);
  },
};
