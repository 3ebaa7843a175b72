import { SmtpUsageError } from '@smtp/protocol';
import { describe, expect, it } from 'vitest';
import { resolveEnvelope } from './envelope.js';

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
});
