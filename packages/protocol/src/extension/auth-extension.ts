// AUTH (RFC 4954): the EHLO keyword with its SASL mechanisms, the MAIL parameter AUTH=<mailbox> (§5).
// The SASL exchange itself lives in ../sasl.

import { decodeXtext, encodeXtext } from '../bytes/xtext.js';
import { SmtpUsageError } from '../errors.js';
import { replies } from '../reply/reply-catalog.js';
import { isPlaintextMechanism, type SaslMechanismName } from '../sasl/sasl-mechanism.js';
import type { ResolvedServerOptions } from '../server/server-options.js';
import type { EsmtpExtension, MailParameter } from './esmtp-extension.js';

/** RFC 4954 §4 + house rule: plaintext mechanisms only under TLS unless allowPlaintext. */
export function isMechanismOffered(
  options: ResolvedServerOptions,
  mechanism: string,
  isTlsActive: boolean,
): boolean {
  return (
    (options.extensions.auth as readonly string[]).includes(mechanism) &&
    (isTlsActive || options.allowPlaintextAuth || !isPlaintextMechanism(mechanism as never))
  );
}

function splitWords(text: string): string[] {
  return text.split(' ').filter((word) => word !== '');
}

/** SASL mechanisms, uppercased, in the server's order; [] when AUTH is not offered. */
export const authExtension: EsmtpExtension<
  readonly string[],
  readonly SaslMechanismName[],
  readonly SaslMechanismName[]
> = {
  keyword: 'AUTH',
  rfc: 'RFC 4954',
  meaning: 'SMTP authentication with these SASL mechanisms (RFC 4954)',
  capability: {
    absent: Object.freeze([]),
    // Also the pre-RFC 4954 `AUTH=LOGIN PLAIN` some servers still send beside `AUTH`: the first
    // mechanism rides on the keyword. Lines add up, without repeats.
    parse(parameters, keyword, previous) {
      const mechanisms = [...previous];
      const legacy = keyword.length > 5 ? keyword.slice(5) : '';
      for (const mechanism of [legacy, ...splitWords(parameters)]) {
        const name = mechanism.toUpperCase();
        if (name !== '' && !mechanisms.includes(name)) mechanisms.push(name);
      }
      return mechanisms;
    },
    takesParameterInKeyword: true,
    serialize: (mechanisms) => (mechanisms.length > 0 ? mechanisms.join(' ') : null),
  },
  server: {
    option: 'auth',
    resolve: (value) => value ?? [],
    offer: (options, isTlsActive) =>
      options.extensions.auth.filter((mechanism) => isMechanismOffered(options, mechanism, isTlsActive)),
  },
  parameters: ['AUTH'],
};

/** Decoded AUTH= mailboxes must not smuggle line breaks or controls downstream. */
const controlCharacter = /[\u0000-\u001f\u007f]/;

/** RFC 4954 §5: the submitter's mailbox, decoded from xtext; null is AUTH=<> (unknown or unauthenticated). */
export const authParameter: MailParameter<string | null> = {
  keyword: 'AUTH',
  parse(value) {
    if (value === null) return undefined;
    if (value === '<>') return null;
    const auth = decodeXtext(value);
    return auth === null || auth.length === 0 || controlCharacter.test(auth) ? undefined : auth;
  },
  serialize(auth) {
    if (auth === null) return '<>';
    if (auth.length === 0 || controlCharacter.test(auth))
      throw new SmtpUsageError('AUTH= needs a mailbox without controls');
    // A mailbox spelled "<>" must not read back as the null value.
    return auth === '<>' ? '+3C+3E' : encodeXtext(auth);
  },
  describe: (auth) => auth ?? '<>',
  check: (_value, { options }) => (options.extensions.auth.length > 0 ? null : replies.unknownParameter),
  // The client does not send AUTH= on its own: a relay passes it through the envelope.
  plan: () => undefined,
  request: () => ({}),
};
