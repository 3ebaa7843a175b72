// fast-check arbitraries for the SMTP grammar: domains, mailboxes, paths, ESMTP parameters, commands.
// Every value they produce is one that serializes and parses back to itself (strict syntax, ASCII
// unless a `utf8` variant says otherwise), so other tests can build on them.

import { fc } from '@fast-check/vitest';
import type { Domain, ForwardPath, Mailbox, ReversePath } from '../src/address/mailbox.js';
import type {
  Command,
  DsnNotify,
  EsmtpParameter,
  MailParameters,
  RcptParameters,
} from '../src/command/command.js';

const lowerLetters = 'abcdefghijklmnopqrstuvwxyz';
const letters = `${lowerLetters}${lowerLetters.toUpperCase()}`;
const digits = '0123456789';
const atextSpecials = "!#$%&'*+-/=?^_`{|}~";

function charFrom(alphabet: string): fc.Arbitrary<string> {
  return fc.constantFrom(...alphabet.split(''));
}

function stringFrom(alphabet: string, minLength: number, maxLength: number): fc.Arbitrary<string> {
  return fc.string({ unit: charFrom(alphabet), minLength, maxLength });
}

/** Printable ASCII and space: what a Quoted-string or a free-text argument carries. */
export const printableAsciiArbitrary = (maxLength = 20): fc.Arbitrary<string> =>
  fc.string({ unit: fc.integer({ min: 32, max: 126 }).map((code) => String.fromCharCode(code)), maxLength });

/** A LDH label: starts and ends with a letter or digit, up to 20 characters. */
export const labelArbitrary: fc.Arbitrary<string> = fc
  .tuple(charFrom(letters + digits), stringFrom(`${letters}${digits}-`, 0, 18), charFrom(letters + digits))
  .map(([first, middle, last]) =>
    middle.length === 0 && first === last ? first : `${first}${middle}${last}`,
  );

export const domainNameArbitrary: fc.Arbitrary<string> = fc
  .array(labelArbitrary, { minLength: 1, maxLength: 4 })
  .map((labels) => labels.join('.'));

/** A U-label-ish name for SMTPUTF8 tests: LDH labels with some non-ASCII letters. */
export const utf8DomainNameArbitrary: fc.Arbitrary<string> = fc
  .array(
    fc
      .tuple(labelArbitrary, fc.constantFrom('ü', 'é', 'ñ', '中', '日本', 'ß', 'ø'))
      .map(([label, extra]) => `${extra}${label}`),
    { minLength: 1, maxLength: 3 },
  )
  .map((labels) => labels.join('.'));

export const ipv4Arbitrary: fc.Arbitrary<string> = fc
  .tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255))
  .map((parts) => parts.join('.'));

const hexGroupArbitrary = fc.nat(0xffff).map((value) => value.toString(16));

/** All RFC 5321 §4.1.3 IPv6 forms: full, compressed ("::" standing for two or more groups), with IPv4 tail. */
export const ipv6Arbitrary: fc.Arbitrary<string> = fc.oneof(
  fc.array(hexGroupArbitrary, { minLength: 8, maxLength: 8 }).map((groups) => groups.join(':')),
  fc.tuple(fc.array(hexGroupArbitrary, { maxLength: 6 }), fc.nat(6)).map(([groups, split]) => {
    const at = Math.min(split, groups.length);
    return `${groups.slice(0, at).join(':')}::${groups.slice(at).join(':')}`;
  }),
  fc
    .tuple(fc.array(hexGroupArbitrary, { minLength: 6, maxLength: 6 }), ipv4Arbitrary)
    .map(([groups, ipv4]) => `${groups.join(':')}:${ipv4}`),
  fc
    .tuple(fc.array(hexGroupArbitrary, { maxLength: 4 }), fc.nat(4), ipv4Arbitrary)
    .map(([groups, split, ipv4]) => {
      const at = Math.min(split, groups.length);
      const right = groups.slice(at);
      return `${groups.slice(0, at).join(':')}::${right.map((group) => `${group}:`).join('')}${ipv4}`;
    }),
);

/** Standardized-tag ":" 1*dcontent, never the IPv6 tag. */
export const generalLiteralArbitrary: fc.Arbitrary<Domain> = fc
  .record({
    tag: labelArbitrary.filter((tag) => tag.toLowerCase() !== 'ipv6'),
    content: fc.string({
      unit: fc
        .integer({ min: 33, max: 126 })
        .filter((code) => code < 91 || code > 93)
        .map((code) => String.fromCharCode(code)),
      minLength: 1,
      maxLength: 16,
    }),
  })
  .map(({ tag, content }) => ({ kind: 'general', tag, content }) as const);

export const domainArbitrary: fc.Arbitrary<Domain> = fc.oneof(
  { weight: 5, arbitrary: domainNameArbitrary.map((name) => ({ kind: 'name', name }) as const) },
  { weight: 1, arbitrary: ipv4Arbitrary.map((address) => ({ kind: 'ipv4', address }) as const) },
  { weight: 1, arbitrary: ipv6Arbitrary.map((address) => ({ kind: 'ipv6', address }) as const) },
  { weight: 1, arbitrary: generalLiteralArbitrary },
);

const atomArbitrary = stringFrom(`${letters}${digits}${atextSpecials}`, 1, 8);

/** Dot-string local parts and (printable ASCII) quoted-string local parts, at most 64 octets on the wire. */
export const localPartArbitrary: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.array(atomArbitrary, { minLength: 1, maxLength: 4 }).map((atoms) => atoms.join('.')),
  },
  { weight: 1, arbitrary: printableAsciiArbitrary(20) },
);

export const mailboxArbitrary: fc.Arbitrary<Mailbox> = fc.record({
  localPart: localPartArbitrary,
  domain: domainArbitrary,
});

/** Mailboxes for SMTPUTF8 sessions (RFC 6531 §3.3): non-ASCII in local parts and domain names. */
export const utf8MailboxArbitrary: fc.Arbitrary<Mailbox> = fc.record({
  localPart: fc.oneof(
    localPartArbitrary,
    fc
      .tuple(atomArbitrary, fc.constantFrom('ü', 'ñ', '用户', 'ελ', '😀'))
      .map(([atom, extra]) => `${extra}${atom}`),
  ),
  domain: fc.oneof(
    domainArbitrary,
    utf8DomainNameArbitrary.map((name) => ({ kind: 'name', name }) as const),
  ),
});

export const reversePathArbitrary: fc.Arbitrary<ReversePath> = fc.option(mailboxArbitrary, { freq: 5 });
export const forwardPathArbitrary: fc.Arbitrary<ForwardPath> = fc.oneof(
  { weight: 8, arbitrary: mailboxArbitrary },
  { weight: 1, arbitrary: fc.constant('Postmaster' as const) },
);

const esmtpValueArbitrary = fc.string({
  unit: fc
    .integer({ min: 33, max: 126 })
    .filter((code) => code !== 61)
    .map((code) => String.fromCharCode(code)),
  minLength: 1,
  maxLength: 12,
});

/** Unknown parameters: unique keywords outside `known`, with or without a value. */
export function unknownParametersArbitrary(known: readonly string[]): fc.Arbitrary<EsmtpParameter[]> {
  return fc.uniqueArray(
    fc.record({
      keyword: fc
        .tuple(
          charFrom(letters.toUpperCase() + digits),
          stringFrom(`${letters.toUpperCase()}${digits}-`, 0, 10),
        )
        .map(([first, rest]) => `X${first}${rest}`)
        .filter((keyword) => !known.includes(keyword)),
      value: fc.option(esmtpValueArbitrary),
    }),
    { selector: (parameter) => parameter.keyword, maxLength: 3 },
  );
}

/** Non-empty text without controls (and so without CR/LF); any Unicode. */
const freeTextArbitrary = fc
  .string({ unit: 'grapheme', minLength: 1, maxLength: 20 })
  .filter((text) => !/[\u0000-\u001f\u007f]/.test(text));

export const mailParametersArbitrary: fc.Arbitrary<MailParameters> = fc.record(
  {
    size: fc.maxSafeNat(),
    body: fc.constantFrom('7BIT', '8BITMIME', 'BINARYMIME'),
    smtpUtf8: fc.constant(true as const),
    ret: fc.constantFrom('FULL', 'HDRS'),
    envid: fc.string({
      unit: fc.integer({ min: 32, max: 126 }).map((code) => String.fromCharCode(code)),
      minLength: 1,
      maxLength: 30,
    }),
    auth: fc.option(freeTextArbitrary),
    by: fc.record({
      seconds: fc.integer({ min: -999_999_999, max: 999_999_999 }),
      mode: fc.constantFrom('N', 'R'),
      trace: fc.boolean(),
    }),
    requireTls: fc.constant(true as const),
    mtPriority: fc.integer({ min: -9, max: 9 }),
    unknown: unknownParametersArbitrary([
      'SIZE',
      'BODY',
      'SMTPUTF8',
      'RET',
      'ENVID',
      'AUTH',
      'BY',
      'REQUIRETLS',
      'MT-PRIORITY',
    ]),
  },
  { requiredKeys: ['unknown'] },
);

export const notifyArbitrary: fc.Arbitrary<DsnNotify> = fc.oneof(
  fc.constant('NEVER' as const),
  fc.shuffledSubarray(['SUCCESS', 'FAILURE', 'DELAY'] as const, { minLength: 1 }),
);

export const rcptParametersArbitrary: fc.Arbitrary<RcptParameters> = fc.record(
  {
    notify: notifyArbitrary,
    orcpt: fc.record({ addressType: fc.constantFrom('rfc822', 'utf-8', 'X400'), address: freeTextArbitrary }),
    unknown: unknownParametersArbitrary(['NOTIFY', 'ORCPT']),
  },
  { requiredKeys: ['unknown'] },
);

const mechanismArbitrary = stringFrom(`${letters.toUpperCase()}${digits}-_`, 1, 20);

/** Every Command variant, ASCII only: round-trips under the default strict syntax. */
export const commandArbitrary: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ verb: fc.constantFrom('EHLO', 'HELO', 'LHLO'), client: domainArbitrary }),
  fc.record({ verb: fc.constant('MAIL'), from: reversePathArbitrary, parameters: mailParametersArbitrary }),
  fc.record({ verb: fc.constant('RCPT'), to: forwardPathArbitrary, parameters: rcptParametersArbitrary }),
  fc.record({ verb: fc.constant('BDAT'), size: fc.maxSafeNat(), last: fc.boolean() }),
  fc.record({
    verb: fc.constant('AUTH'),
    mechanism: mechanismArbitrary,
    initialResponse: fc.option(fc.uint8Array({ maxLength: 40 })),
  }),
  fc.record({ verb: fc.constantFrom('DATA', 'RSET', 'QUIT', 'STARTTLS') }),
  fc.record({ verb: fc.constantFrom('NOOP', 'HELP'), argument: printableAsciiArbitrary() }),
  fc.record({
    verb: fc.constantFrom('VRFY', 'EXPN', 'ETRN'),
    argument: printableAsciiArbitrary().filter((argument) => argument.trim().length > 0),
  }),
  fc.record({
    verb: fc.constant('XCLIENT'),
    attributes: fc
      .uniqueArray(
        fc.tuple(
          fc.constantFrom(
            'NAME',
            'ADDR',
            'PORT',
            'PROTO',
            'HELO',
            'LOGIN',
            'DESTADDR',
            'DESTPORT',
            'X-OTHER',
          ),
          fc.string({ unit: 'grapheme', maxLength: 12 }),
        ),
        { selector: ([name]) => name, minLength: 1, maxLength: 4 },
      )
      .map((entries) => new Map(entries) as ReadonlyMap<string, string>),
  }),
) as fc.Arbitrary<Command>;
