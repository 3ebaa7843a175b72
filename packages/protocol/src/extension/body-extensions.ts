// 8BITMIME (RFC 6152) and BINARYMIME (RFC 3030): the EHLO keywords and the MAIL parameter BODY they share.

import type { BodyType } from '../command/command.js';
import { SmtpCapabilityError, SmtpUsageError } from '../errors.js';
import { replies } from '../reply/reply-catalog.js';
import type { EsmtpExtension, MailParameter } from './esmtp-extension.js';
import { flagCapability } from './flag-extension.js';

export const eightBitMimeExtension: EsmtpExtension<boolean, boolean, boolean> = {
  keyword: '8BITMIME',
  rfc: 'RFC 6152',
  meaning: '8-bit message bodies accepted (RFC 6152)',
  capability: flagCapability,
  server: {
    option: 'eightBitMime',
    resolve: (value) => value ?? true,
    offer: (options) => options.extensions.eightBitMime,
  },
  parameters: ['BODY'],
};

export const binaryMimeExtension: EsmtpExtension<boolean, boolean, boolean> = {
  keyword: 'BINARYMIME',
  rfc: 'RFC 3030',
  meaning: 'binary bodies with BDAT (RFC 3030)',
  capability: flagCapability,
  server: {
    option: 'binaryMime',
    // RFC 3030 §3: BINARYMIME needs CHUNKING.
    resolve: (value, extensions) => (value ?? true) && extensions.chunking !== false,
    offer: (options) => options.extensions.binaryMime,
  },
  parameters: ['BODY'],
};

export const bodyParameter: MailParameter<BodyType> = {
  keyword: 'BODY',
  parse(value) {
    const upper = value?.toUpperCase();
    return upper === '7BIT' || upper === '8BITMIME' || upper === 'BINARYMIME' ? upper : undefined;
  },
  serialize: (body) => body,
  check(body, { options }) {
    if (body === '8BITMIME' && !options.extensions.eightBitMime) return replies.unknownParameter;
    if (body === 'BINARYMIME' && !options.extensions.binaryMime) return replies.unknownParameter;
    return null;
  },
  plan(envelope, _requested, { offered, transfer }) {
    const body = envelope.body ?? '7BIT';
    if (body === '8BITMIME' && !offered.eightBitMime) {
      throw new SmtpCapabilityError('8BITMIME', 'An 8-bit body needs the 8BITMIME extension (RFC 6152)');
    }
    if (body === 'BINARYMIME') {
      if (!offered.binaryMime || !offered.chunking) {
        throw new SmtpCapabilityError(
          'BINARYMIME',
          'A binary body needs the BINARYMIME and CHUNKING extensions (RFC 3030 §3)',
        );
      }
      if (transfer === 'DATA') throw new SmtpUsageError('BINARYMIME cannot be sent with DATA (RFC 3030 §3)');
    }
    // BODY=7BIT is only meaningful (and only known) to servers that offer 8BITMIME (RFC 6152 §3).
    return envelope.body !== undefined && (body !== '7BIT' || offered.eightBitMime) ? body : undefined;
  },
  request: (body) => ({ body }),
};
