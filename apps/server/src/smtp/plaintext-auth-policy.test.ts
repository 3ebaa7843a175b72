import { describe, expect, it } from 'vitest';
import { decidePlaintextAuth, isLoopbackAddress } from './plaintext-auth-policy.js';

describe('decidePlaintextAuth', () => {
  // [bind host, STARTTLS offered, setting] → [allowed, warn]
  it.each([
    ['127.0.0.1', false, undefined, true, false],
    ['::1', false, undefined, true, false],
    ['localhost', false, undefined, true, false],
    ['127.0.0.1', true, undefined, false, false],
    ['0.0.0.0', false, undefined, false, false],
    ['::', false, undefined, false, false],
    ['192.0.2.2', true, undefined, false, false],
    ['192.0.2.2', true, true, true, true],
    ['0.0.0.0', false, true, true, true],
    ['127.0.0.1', true, true, true, true],
    ['127.0.0.1', false, true, true, false],
    ['127.0.0.1', false, false, false, false],
  ] as const)(
    '%s starttls=%s setting=%s → allowed %s, warn %s',
    (bindHost, isStartTlsOffered, allowPlaintext, isAllowed, shouldWarn) => {
      expect(decidePlaintextAuth({ bindHost, isStartTlsOffered, allowPlaintext })).toEqual({
        isAllowed,
        shouldWarn,
      });
    },
  );

  it('knows loopback addresses', () => {
    expect(['127.0.0.1', '127.0.0.2', '[::1]', 'LOCALHOST'].every(isLoopbackAddress)).toBe(true);
    expect(
      ['0.0.0.0', '::', '192.0.2.2', '128.0.0.1', 'localhost.example', '::ffff:8.8.8.8'].some(
        isLoopbackAddress,
      ),
    ).toBe(false);
  });
});
