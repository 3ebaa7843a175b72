import { describe, expect, it } from 'vitest';
import { tlsOptionsFor, tlsPolicyFor } from './tls-policy.js';

describe('tlsPolicyFor (mta.tlsPolicy)', () => {
  const policies = { 'bank.test': 'verify', '.bank.test': 'encrypt', 'legacy.test': 'none' } as const;

  it('takes the domain’s own entry, else the nearest .parent entry, else may', () => {
    expect(tlsPolicyFor('bank.test', policies)).toBe('verify');
    expect(tlsPolicyFor('mail.bank.test', policies)).toBe('encrypt');
    expect(tlsPolicyFor('a.b.bank.test', policies)).toBe('encrypt');
    expect(tlsPolicyFor('legacy.test', policies)).toBe('none');
    // A .parent entry covers subdomains only; the parent itself needs its own.
    expect(tlsPolicyFor('sub.legacy.test', policies)).toBe('may');
    expect(tlsPolicyFor('other.test', policies)).toBe('may');
    expect(tlsPolicyFor('notbank.test', policies)).toBe('may');
  });

  it('matches case-insensitively and ignores a trailing dot', () => {
    expect(tlsPolicyFor('Mail.BANK.test.', policies)).toBe('encrypt');
  });

  it('maps each level to deliver() options, adding the trusted certificates where TLS may verify', () => {
    expect(tlsOptionsFor('none', ['CA'])).toEqual({ starttls: 'never' });
    expect(tlsOptionsFor('may', null)).toEqual({ starttls: 'opportunistic', tls: {} });
    expect(tlsOptionsFor('encrypt', null)).toEqual({
      starttls: 'required',
      tls: { rejectUnauthorized: false },
    });
    expect(tlsOptionsFor('verify', ['CA'])).toEqual({
      starttls: 'required',
      tls: { ca: ['CA'], rejectUnauthorized: true },
    });
  });
});
