// REQUIRETLS (RFC 8689): offered only on a TLS session (§2), the bare MAIL parameter.

import { SmtpCapabilityError } from '../errors.js';
import { replies } from '../reply/reply-catalog.js';
import type { EsmtpExtension, MailParameter } from './esmtp-extension.js';
import { flagCapability } from './flag-extension.js';

export const requireTlsExtension: EsmtpExtension<boolean, boolean, boolean> = {
  keyword: 'REQUIRETLS',
  rfc: 'RFC 8689',
  meaning: 'the message may demand TLS on every hop (RFC 8689)',
  capability: flagCapability,
  server: {
    option: 'requireTls',
    resolve: (value) => value ?? true,
    offer: (options, isTlsActive) => options.extensions.requireTls && isTlsActive, // RFC 8689 §2
  },
  parameters: ['REQUIRETLS'],
};

export const requireTlsParameter: MailParameter<true> = {
  keyword: 'REQUIRETLS',
  parse: (value) => (value === null ? true : undefined),
  serialize: () => null,
  check(_value, { options, isTlsActive }) {
    if (!options.extensions.requireTls) return replies.unknownParameter;
    return isTlsActive ? null : replies.requireTlsWithoutTls; // RFC 8689 §4.1
  },
  plan(envelope, _requested, { offered, isTlsActive }) {
    if (envelope.requireTls !== true) return undefined;
    // RFC 8689 §4.1: REQUIRETLS only means something on a TLS session that offers it.
    if (!isTlsActive) {
      throw new SmtpCapabilityError('REQUIRETLS', 'REQUIRETLS needs an active TLS session (RFC 8689 §4.1)');
    }
    if (!offered.requireTls) {
      throw new SmtpCapabilityError('REQUIRETLS', 'The server does not offer REQUIRETLS (RFC 8689)');
    }
    return true;
  },
  request: () => ({ requireTls: true }),
};
