import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  type Capabilities,
  emptyCapabilities,
  parseCapabilities,
  serializeCapabilities,
} from './capabilities.js';
import type { Reply } from './reply.js';

function ehlo(...keywords: string[]): Reply {
  return { code: 250, enhanced: null, lines: ['mx.example greets client.example', ...keywords] };
}

describe('parseCapabilities', () => {
  it('reads the EHLO reply of RFC 5321 Appendix D.1', () => {
    expect(parseCapabilities(ehlo('8BITMIME', 'SIZE', 'DSN', 'HELP'))).toEqual({
      ...emptyCapabilities,
      eightBitMime: true,
      size: 0, // RFC 1870 §4: no number, no fixed limit
      dsn: true,
      help: true,
      auth: [],
      unknown: new Map(),
    });
  });

  it('reads every known keyword, case-insensitively', () => {
    const capabilities = parseCapabilities(
      ehlo(
        'pipelining',
        'Size 10485760',
        '8bitmime',
        'SMTPUTF8',
        'EnhancedStatusCodes',
        'STARTTLS',
        'CHUNKING',
        'BINARYMIME',
        'DSN',
        'REQUIRETLS',
        'DELIVERBY 240',
        'mt-priority mixer',
        'auth plain login xoauth2',
        'ETRN',
        'VRFY',
        'HELP',
        'XCLIENT name addr PORT',
      ),
    );
    expect(capabilities).toEqual({
      pipelining: true,
      size: 10485760,
      eightBitMime: true,
      smtpUtf8: true,
      enhancedStatusCodes: true,
      startTls: true,
      chunking: true,
      binaryMime: true,
      dsn: true,
      requireTls: true,
      deliverBy: 240,
      mtPriority: 'MIXER',
      auth: ['PLAIN', 'LOGIN', 'XOAUTH2'],
      etrn: true,
      vrfy: true,
      help: true,
      xclient: ['NAME', 'ADDR', 'PORT'],
      unknown: new Map(),
    });
  });

  it('ignores the greeting line, even when it looks like a keyword', () => {
    expect(parseCapabilities({ code: 250, enhanced: null, lines: ['PIPELINING'] }).pipelining).toBe(false);
  });

  it('merges the legacy AUTH= form with AUTH, without duplicates (RFC 4954 predecessors)', () => {
    expect(parseCapabilities(ehlo('AUTH=LOGIN PLAIN', 'AUTH PLAIN LOGIN CRAM-MD5')).auth).toEqual([
      'LOGIN',
      'PLAIN',
      'CRAM-MD5',
    ]);
    expect(parseCapabilities(ehlo('AUTH=PLAIN')).auth).toEqual(['PLAIN']);
  });

  it('keeps unknown keywords with their parameters', () => {
    const capabilities = parseCapabilities(
      ehlo('X-EXPS GSSAPI NTLM', 'FUTURERELEASE 604800 2026-12-31T00:00:00Z', 'LIMITS RCPTMAX=100', 'XFOO'),
    );
    expect(capabilities.unknown).toEqual(
      new Map([
        ['X-EXPS', 'GSSAPI NTLM'],
        ['FUTURERELEASE', '604800 2026-12-31T00:00:00Z'],
        ['LIMITS', 'RCPTMAX=100'],
        ['XFOO', ''],
      ]),
    );
  });

  it('reads MT-PRIORITY with or without a policy name (RFC 6710), and only the keyword AUTH carries a parameter', () => {
    expect(parseCapabilities(ehlo('MT-PRIORITY STANAG4406')).mtPriority).toBe('STANAG4406');
    expect(parseCapabilities(ehlo('MT-PRIORITY')).mtPriority).toBe('');
    expect(parseCapabilities(ehlo()).mtPriority).toBeNull();
    expect(serializeCapabilities({ ...emptyCapabilities, mtPriority: '' })).toEqual(['MT-PRIORITY']);
    expect(serializeCapabilities({ ...emptyCapabilities, mtPriority: 'MIXER' })).toEqual([
      'MT-PRIORITY MIXER',
    ]);
    const sizeWithEquals = parseCapabilities(ehlo('SIZE=1000'));
    expect(sizeWithEquals.size).toBeNull();
    expect(sizeWithEquals.unknown).toEqual(new Map([['SIZE=1000', '']]));
  });

  it('treats SIZE and DELIVERBY without a usable number as offered with 0', () => {
    expect(parseCapabilities(ehlo('SIZE abc', 'DELIVERBY')).size).toBe(0);
    expect(parseCapabilities(ehlo('DELIVERBY')).deliverBy).toBe(0);
    expect(parseCapabilities(ehlo()).size).toBeNull();
    expect(parseCapabilities(ehlo()).deliverBy).toBeNull();
  });

  it('reads XCLIENT without attributes as offered with none', () => {
    expect(parseCapabilities(ehlo('XCLIENT')).xclient).toEqual([]);
  });
});

describe('serializeCapabilities', () => {
  it('writes keyword lines', () => {
    expect(
      serializeCapabilities({
        ...emptyCapabilities,
        pipelining: true,
        size: 10485760,
        auth: ['PLAIN', 'LOGIN'],
      }),
    ).toEqual(['PIPELINING', 'SIZE 10485760', 'AUTH PLAIN LOGIN']);
  });

  it('writes nothing for emptyCapabilities and a bare SIZE for no limit', () => {
    expect(serializeCapabilities(emptyCapabilities)).toEqual([]);
    expect(serializeCapabilities({ ...emptyCapabilities, size: 0 })).toEqual(['SIZE']);
  });

  const knownKeywords = new Set([
    'PIPELINING',
    'SIZE',
    '8BITMIME',
    'SMTPUTF8',
    'ENHANCEDSTATUSCODES',
    'STARTTLS',
    'CHUNKING',
    'BINARYMIME',
    'DSN',
    'REQUIRETLS',
    'DELIVERBY',
    'AUTH',
    'ETRN',
    'VRFY',
    'HELP',
    'XCLIENT',
    'MT-PRIORITY',
  ]);
  const tokenArbitrary = fc.stringMatching(/^[A-Z0-9][A-Z0-9-]{0,10}$/);
  const keywordArbitrary = tokenArbitrary.filter(
    (keyword) => !knownKeywords.has(keyword) && !keyword.startsWith('AUTH='),
  );
  const parameterArbitrary = fc
    .array(fc.stringMatching(/^[!-~]{1,8}$/), { maxLength: 3 })
    .map((parameters) => parameters.join(' '));
  const capabilitiesArbitrary: fc.Arbitrary<Capabilities> = fc.record({
    pipelining: fc.boolean(),
    size: fc.option(fc.nat()),
    eightBitMime: fc.boolean(),
    smtpUtf8: fc.boolean(),
    enhancedStatusCodes: fc.boolean(),
    startTls: fc.boolean(),
    chunking: fc.boolean(),
    binaryMime: fc.boolean(),
    dsn: fc.boolean(),
    requireTls: fc.boolean(),
    deliverBy: fc.option(fc.nat()),
    mtPriority: fc.option(fc.constantFrom('', 'MIXER', 'STANAG4406', 'NSEP')),
    auth: fc.uniqueArray(tokenArbitrary, { maxLength: 4 }),
    etrn: fc.boolean(),
    vrfy: fc.boolean(),
    help: fc.boolean(),
    xclient: fc.option(fc.array(tokenArbitrary, { maxLength: 4 })),
    unknown: fc
      .uniqueArray(fc.tuple(keywordArbitrary, parameterArbitrary), {
        selector: ([keyword]) => keyword,
        maxLength: 4,
      })
      .map((entries) => new Map(entries)),
  });

  test.prop([capabilitiesArbitrary])(
    'parseCapabilities reads back what serializeCapabilities wrote',
    (capabilities) => {
      const lines = serializeCapabilities(capabilities);
      expect(parseCapabilities(ehlo(...lines))).toEqual(capabilities);
      // Keywords are case-insensitive: a lowercased reply means the same (parameters of unknown keywords aside).
      const lowered = lines.map((line) => line.toLowerCase());
      const parsed = parseCapabilities(ehlo(...lowered));
      expect({ ...parsed, unknown: [...parsed.unknown.keys()] }).toEqual({
        ...capabilities,
        unknown: [...capabilities.unknown.keys()],
      });
    },
  );
});
