// SMTPUTF8 (RFC 6531): the EHLO keyword and the bare MAIL parameter.

import { SmtpCapabilityError } from '../errors.js';
import { replies } from '../reply/reply-catalog.js';
import type { EsmtpExtension, MailParameter } from './esmtp-extension.js';
import { flagCapability } from './flag-extension.js';

export const smtpUtf8Extension: EsmtpExtension<boolean, boolean, boolean> = {
  keyword: 'SMTPUTF8',
  rfc: 'RFC 6531',
  meaning: 'UTF-8 addresses and headers accepted (RFC 6531)',
  capability: flagCapability,
  server: {
    option: 'smtpUtf8',
    resolve: (value) => value ?? true,
    offer: (options) => options.extensions.smtpUtf8,
  },
  parameters: ['SMTPUTF8'],
};

export const smtpUtf8Parameter: MailParameter<true> = {
  keyword: 'SMTPUTF8',
  parse: (value) => (value === null ? true : undefined),
  serialize: () => null,
  check: (_value, { options }) => (options.extensions.smtpUtf8 ? null : replies.unknownParameter),
  plan(_envelope, _requested, { offered, needsUtf8 }) {
    if (!needsUtf8) return undefined;
    if (!offered.smtpUtf8) {
      throw new SmtpCapabilityError(
        'SMTPUTF8',
        'Internationalized addresses need the SMTPUTF8 extension (RFC 6531)',
      );
    }
    return true;
  },
  request: () => ({ smtpUtf8: true }),
};
