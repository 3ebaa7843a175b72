import { SmtpUsageError } from '@smtp/protocol';
import { describe, expect, it } from 'vitest';
import { prepareSend } from './prepare-send.js';

const base = { from: 'a@example.org', to: 'b@example.net', message: 'Subject: x\r\n\r\nhi\r\n' } as const;

describe('prepareSend: dsn.envid by the core rule (RFC 3461 §4.4)', () => {
  it('passes a valid ENVID through', () => {
    const prepared = prepareSend({ ...base, dsn: { envid: 'order-1234' } });
    expect(prepared).not.toBeInstanceOf(Promise);
    expect((prepared as Exclude<typeof prepared, Promise<unknown>>).dsn?.envid).toBe('order-1234');
  });

  it.each([
    ['too long', 'a'.repeat(101), /1 to 100 characters/],
    ['not ASCII', 'caf\u00e9', /printable ASCII/],
    ['a line break', 'x\r\nRSET', /CR, LF or NUL/],
    ['empty', '', /1 to 100 characters/],
  ])('refuses an ENVID that is %s before anything is sent', (_case, envid, message) => {
    expect(() => prepareSend({ ...base, dsn: { envid } })).toThrow(SmtpUsageError);
    expect(() => prepareSend({ ...base, dsn: { envid } })).toThrow(message);
  });
});
