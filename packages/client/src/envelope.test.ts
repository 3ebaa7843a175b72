import { SmtpUsageError } from '@smtp/protocol';
import { describe, expect, it } from 'vitest';
import { buildEnvelopeInit, resolveEnvelope } from './envelope.js';
import type { DsnOptions } from './options.js';

describe('resolveEnvelope', () => {
  it('parses plain and bracketed addresses, drops duplicate recipients, detects SMTPUTF8', () => {
    const envelope = resolveEnvelope('<a@example.com>', [
      'b@example.com',
      'b@example.com',
      'j\u00f6rg@example.com',
    ]);
    expect(envelope.recipients.map((recipient) => recipient.address)).toEqual([
      'b@example.com',
      'j\u00f6rg@example.com',
    ]);
    expect(envelope.needsSmtpUtf8).toBe(true);
    expect(resolveEnvelope(null, 'b@example.com').from).toBeNull();
    // A Unicode domain name alone can travel as A-labels (RFC 6531 §3.7): no SMTPUTF8 needed.
    expect(resolveEnvelope('a@bücher.example', 'b@münchen.example').needsSmtpUtf8).toBe(false);
    expect(resolveEnvelope('jörg@bücher.example', 'b@example.com').needsSmtpUtf8).toBe(true);
  });

  it('refuses CR, LF and NUL anywhere (command injection)', () => {
    for (const bad of [
      'a@example.com\r\nDATA',
      'a@exa\nmple.com',
      'a\0@example.com',
      'a@example.com>\rRSET',
    ]) {
      expect(() => resolveEnvelope(bad, 'b@example.com')).toThrow(SmtpUsageError);
      expect(() => resolveEnvelope('a@example.com', bad)).toThrow(SmtpUsageError);
    }
  });

  it('refuses an empty recipient list and invalid addresses', () => {
    expect(() => resolveEnvelope('a@example.com', [])).toThrow(SmtpUsageError);
    expect(() => resolveEnvelope('a@example.com', 'not an address')).toThrow(SmtpUsageError);
  });

  it('writes an ORCPT as rfc822 with A-labels, or as utf-8 in an SMTPUTF8 transaction (RFC 3461 §4.2)', () => {
    const envelope = resolveEnvelope('a@example.com', ['b@bücher.example', 'c@example.com']);
    const orcpts = (smtpUtf8: boolean) =>
      buildEnvelopeInit(envelope, {
        size: null,
        body: '7BIT',
        smtpUtf8,
        requireTls: false,
        dsn: { orcpt: true },
      }).to.map((recipient) =>
        typeof recipient === 'object' && 'to' in recipient ? recipient.orcpt : undefined,
      );
    expect(orcpts(false)).toEqual([
      { addressType: 'rfc822', address: 'b@xn--bcher-kva.example' },
      { addressType: 'rfc822', address: 'c@example.com' },
    ]);
    expect(orcpts(true)).toEqual([
      { addressType: 'utf-8', address: 'b@bücher.example' },
      { addressType: 'utf-8', address: 'c@example.com' },
    ]);
  });

  it('relays per-recipient NOTIFY/ORCPT, and with onlyIfOffered leaves DSN out for a server without it', () => {
    const envelope = resolveEnvelope('a@example.com', ['B@example.com', 'c@example.com']);
    const dsn: DsnOptions = {
      onlyIfOffered: true,
      ret: 'HDRS',
      envid: 'env-1',
      recipients: new Map([
        [
          'B@example.com',
          { notify: ['SUCCESS'], orcpt: { addressType: 'rfc822', address: 'Orig@example.com' } },
        ],
      ]),
    };
    const build = (dsnOffered: boolean) =>
      buildEnvelopeInit(envelope, {
        size: null,
        body: '7BIT',
        smtpUtf8: false,
        requireTls: false,
        dsn,
        dsnOffered,
      });
    expect(build(true)).toMatchObject({
      dsn: { ret: 'HDRS', envid: 'env-1' },
      to: [
        { notify: ['SUCCESS'], orcpt: { addressType: 'rfc822', address: 'Orig@example.com' } },
        { localPart: 'c' },
      ],
    });
    const withoutDsn = build(false);
    expect(withoutDsn.dsn).toBeUndefined();
    expect(withoutDsn.to.every((recipient) => !(typeof recipient === 'object' && 'to' in recipient))).toBe(
      true,
    );
  });
});
