// SIZE (RFC 1870): the EHLO keyword with the fixed maximum, the MAIL parameter SIZE=<bytes>.

import { SmtpCapabilityError, SmtpUsageError } from '../errors.js';
import { replies } from '../reply/reply-catalog.js';
import type { EsmtpExtension, MailParameter } from './esmtp-extension.js';

/** RFC 1870: size-value = 1*20DIGIT; we keep what a JS number holds exactly. */
const sizeValue = /^[0-9]{1,20}$/;

/** A decimal count such as SIZE's; a missing or malformed number reads as 0 (offered, no value). */
export function parseCount(parameters: string): number {
  const first = parameters.split(' ', 1)[0] ?? '';
  if (!/^[0-9]{1,15}$/.test(first)) return 0;
  return Number(first);
}

/** RFC 1870 §4: a size of 0 means no fixed limit, which is also what a bare SIZE says. */
export function serializeCount(value: number | null): string | null {
  if (value === null) return null;
  return value > 0 ? String(value) : '';
}

/** The fixed maximum message size; 0 when offered without a limit; null when not offered. */
export const sizeExtension: EsmtpExtension<number | null, boolean, boolean> = {
  keyword: 'SIZE',
  rfc: 'RFC 1870',
  meaning: 'declares the largest message accepted (RFC 1870)',
  capability: { absent: null, parse: parseCount, serialize: serializeCount },
  server: {
    option: 'size',
    resolve: (value) => value ?? true,
    offer: (options) => (options.extensions.size ? options.maxMessageBytes : null),
  },
  parameters: ['SIZE'],
};

export const sizeParameter: MailParameter<number> = {
  keyword: 'SIZE',
  parse(value) {
    if (value === null || !sizeValue.test(value)) return undefined;
    const size = Number(value);
    return Number.isSafeInteger(size) ? size : undefined;
  },
  serialize(size) {
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new SmtpUsageError(`SIZE must be a non-negative safe integer, got ${size}`);
    }
    return String(size);
  },
  check(size, { options }) {
    if (!options.extensions.size) return replies.unknownParameter;
    // RFC 1870 §6: a declared size above the fixed maximum is refused at once.
    if (options.maxMessageBytes > 0 && size > options.maxMessageBytes) return replies.declaredSizeTooBig;
    return null;
  },
  plan(envelope, _requested, { offered }) {
    const { size } = envelope;
    if (size === undefined) return undefined;
    if (!Number.isSafeInteger(size) || size < 0)
      throw new SmtpUsageError(`size must be a non-negative integer, got ${size}`);
    // RFC 1870 §4: a message larger than the announced fixed maximum will be refused, so do not try.
    if (offered.size !== null && offered.size > 0 && size > offered.size) {
      throw new SmtpCapabilityError(
        'SIZE',
        `The message (${size} bytes) exceeds the server's limit of ${offered.size} bytes`,
      );
    }
    return offered.size === null ? undefined : size;
  },
  request: (size) => ({ size }),
};
