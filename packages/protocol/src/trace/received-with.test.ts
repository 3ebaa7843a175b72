import { describe, expect, it } from 'vitest';
import type { HelloVerb } from '../command/command.js';
import { receivedWithProtocol, receivedWithProtocols } from './received-with.js';

const flags = [false, true] as const;

/** Every combination, written out from the RFC 3848 and RFC 6531 §4.3 tables rather than computed. */
const expected: Readonly<Record<string, string>> = {
  'EHLO tls=false auth=false utf8=false': 'ESMTP',
  'EHLO tls=true auth=false utf8=false': 'ESMTPS',
  'EHLO tls=false auth=true utf8=false': 'ESMTPA',
  'EHLO tls=true auth=true utf8=false': 'ESMTPSA',
  'EHLO tls=false auth=false utf8=true': 'UTF8SMTP',
  'EHLO tls=true auth=false utf8=true': 'UTF8SMTPS',
  'EHLO tls=false auth=true utf8=true': 'UTF8SMTPA',
  'EHLO tls=true auth=true utf8=true': 'UTF8SMTPSA',
  'LHLO tls=false auth=false utf8=false': 'LMTP',
  'LHLO tls=true auth=false utf8=false': 'LMTPS',
  'LHLO tls=false auth=true utf8=false': 'LMTPA',
  'LHLO tls=true auth=true utf8=false': 'LMTPSA',
  'LHLO tls=false auth=false utf8=true': 'UTF8LMTP',
  'LHLO tls=true auth=false utf8=true': 'UTF8LMTPS',
  'LHLO tls=false auth=true utf8=true': 'UTF8LMTPA',
  'LHLO tls=true auth=true utf8=true': 'UTF8LMTPSA',
};

const cases = (['HELO', 'EHLO', 'LHLO', null] as const).flatMap((helloVerb: HelloVerb | null) =>
  flags.flatMap((isTls) =>
    flags.flatMap((isAuthenticated) =>
      flags.map((isSmtpUtf8) => {
        const key = `${helloVerb} tls=${isTls} auth=${isAuthenticated} utf8=${isSmtpUtf8}`;
        return {
          key,
          facts: { helloVerb, isTls, isAuthenticated, isSmtpUtf8 },
          want: expected[key] ?? 'SMTP',
        };
      }),
    ),
  ),
);

describe('receivedWithProtocol (RFC 3848, RFC 6531 §4.3)', () => {
  it.each(cases)('$key → $want', ({ facts, want }) => {
    expect(receivedWithProtocol(facts)).toBe(want);
  });

  it('covers every registered keyword and nothing else', () => {
    const produced = new Set(cases.map(({ facts }) => receivedWithProtocol(facts)));
    expect([...produced].sort()).toEqual([...receivedWithProtocols].sort());
  });
});
