// DELIVERBY (RFC 2852): understood when a server offers it, never offered by ServerSession.

import { SmtpUsageError } from '../errors.js';
import { replies } from '../reply/reply-catalog.js';
import type { EsmtpExtension, MailParameter } from './esmtp-extension.js';
import { parseCount, serializeCount } from './size-extension.js';

/** The minimum BY time in seconds (0 when offered without one); null when not offered. */
export const deliverByExtension: EsmtpExtension<number | null> = {
  keyword: 'DELIVERBY',
  rfc: 'RFC 2852',
  meaning: 'delivery deadlines (RFC 2852)',
  capability: { absent: null, parse: parseCount, serialize: serializeCount },
  parameters: ['BY'],
};

export interface DeliverBy {
  readonly seconds: number;
  readonly mode: 'N' | 'R';
  readonly trace: boolean;
}

/** RFC 2852 §4: by-value = by-time ";" by-mode [by-trace], by-time = ["-" / "+"] 1*9digit. */
const byValue = /^([-+]?)([0-9]{1,9});([NnRr])([Tt]?)$/;

export const byParameter: MailParameter<DeliverBy> = {
  keyword: 'BY',
  parse(value) {
    const match = value === null ? null : byValue.exec(value);
    if (match === null) return undefined;
    const magnitude = Number(match[2]);
    // -0 would not deep-equal 0; a zero by-time has one value.
    const seconds = match[1] === '-' && magnitude !== 0 ? -magnitude : magnitude;
    return { seconds, mode: match[3]!.toUpperCase() as 'N' | 'R', trace: match[4] !== '' };
  },
  serialize(by) {
    if (!Number.isInteger(by.seconds) || Math.abs(by.seconds) > 999_999_999) {
      throw new SmtpUsageError('BY= seconds must be an integer of at most 9 digits (RFC 2852)');
    }
    return `${by.seconds};${by.mode}${by.trace ? 'T' : ''}`;
  },
  check: () => replies.unknownParameter, // DELIVERBY is never offered
  plan: () => undefined,
  request: () => ({}),
};
