import { describe, expect, it } from 'vitest';
import { isMxAllowedByPolicy, parseMtaStsPolicy, parseMtaStsRecords } from './mta-sts-policy.js';

describe('parseMtaStsRecords (RFC 8461 §3.1)', () => {
  it('reads the id of the one STSv1 record, ignoring other TXT records and extension fields', () => {
    expect(parseMtaStsRecords(['v=STSv1; id=20160831085700Z;'])).toEqual({ id: '20160831085700Z' });
    expect(parseMtaStsRecords(['v=spf1 -all', 'v=STSv1;id=abc ; ext_1=x'])).toEqual({ id: 'abc' });
  });

  it('means no policy for none, two, or an invalid record', () => {
    expect(parseMtaStsRecords([])).toBeNull();
    expect(parseMtaStsRecords(['v=STSv1; id=a', 'v=STSv1; id=b'])).toBeNull();
    expect(parseMtaStsRecords(['v=STSv1;'])).toBeNull(); // no id
    expect(parseMtaStsRecords(['v=STSv1; id=has-dash'])).toBeNull();
    expect(parseMtaStsRecords([`v=STSv1; id=${'a'.repeat(33)}`])).toBeNull();
    expect(parseMtaStsRecords(['v=STSv1; id=a;; x=y'])).toBeNull();
    expect(parseMtaStsRecords([' v=STSv1; id=a'])).toBeNull(); // must start with v=STSv1
  });
});

describe('parseMtaStsPolicy (RFC 8461 §3.2)', () => {
  const policy =
    'version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.Example.net.\r\nmax_age: 604800\r\n';

  it('reads mode, max_age and every mx, with CRLF or LF line ends', () => {
    const expected = { mode: 'enforce', maxAgeSeconds: 604800, mx: ['mail.example.com', '*.example.net'] };
    expect(parseMtaStsPolicy(policy)).toEqual(expected);
    expect(parseMtaStsPolicy(policy.replaceAll('\r\n', '\n'))).toEqual(expected);
    expect(parseMtaStsPolicy('version: STSv1\nmode: none\nmax_age: 86400\nfuture: field\n')).toEqual({
      mode: 'none',
      maxAgeSeconds: 86400,
      mx: [],
    });
  });

  it('caps max_age at a year and refuses what is not an STSv1 policy', () => {
    expect(parseMtaStsPolicy(policy.replace('604800', '99999999'))?.maxAgeSeconds).toBe(31_557_600);
    for (const bad of [
      policy.replace('STSv1', 'STSv2'),
      policy.replace('enforce', 'strict'),
      policy.replace('max_age: 604800\r\n', ''),
      policy.replace('604800', '-1'),
      'version: STSv1\nmode: testing\nmax_age: 60\n', // no mx
      policy.replace('mail.example.com', 'mail_1.example.com'),
      policy.replace('*.Example.net.', 'a.*.example.net'),
      '<html>not a policy</html>',
    ]) {
      expect(parseMtaStsPolicy(bad), bad).toBeNull();
    }
  });
});

describe('isMxAllowedByPolicy (RFC 8461 §4.1)', () => {
  const policy = { mode: 'enforce', maxAgeSeconds: 60, mx: ['mail.example.com', '*.example.net'] } as const;

  it('matches a name exactly, or a wildcard in exactly the leftmost label', () => {
    expect(isMxAllowedByPolicy('MAIL.example.com.', policy)).toBe(true);
    expect(isMxAllowedByPolicy('mx1.example.net', policy)).toBe(true);
    expect(isMxAllowedByPolicy('a.mx1.example.net', policy)).toBe(false);
    expect(isMxAllowedByPolicy('example.net', policy)).toBe(false);
    expect(isMxAllowedByPolicy('mail.example.com.evil.test', policy)).toBe(false);
  });
});
