import { SmtpUsageError } from '@smtp/protocol';
import { describe, expect, it } from 'vitest';
import { resolveAuth } from './resolve-auth.js';

describe('resolveAuth', () => {
  it('keeps { username, password } as given', () => {
    const auth = { username: 'alice', password: 's3cret', mechanism: 'PLAIN' } as const;
    expect(resolveAuth(auth)).toBe(auth);
  });

  it("maps nodemailer's { user, pass } onto { username, password }, keeping the other fields", () => {
    expect(resolveAuth({ user: 'alice', pass: 's3cret', allowPlaintext: false })).toEqual({
      username: 'alice',
      password: 's3cret',
      allowPlaintext: false,
    });
  });

  it('refuses an auth object without a user name, naming the fields to set', () => {
    expect(() => resolveAuth({ name: 'alice', secret: 'x' } as never)).toThrow(SmtpUsageError);
    expect(() => resolveAuth({ name: 'alice', secret: 'x' } as never)).toThrow(/username.*password/);
  });

  it('passes no auth through as none', () => {
    expect(resolveAuth(undefined)).toBeUndefined();
  });
});
