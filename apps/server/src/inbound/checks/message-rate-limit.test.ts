import { describe, expect, it } from 'vitest';
import { MessageRateLimit } from './message-rate-limit.js';

describe('MessageRateLimit', () => {
  it('admits maxPerMinute messages from one address a minute, then answers 450 4.7.1 until the window ends', () => {
    let nowMs = 1_000_000;
    const limit = new MessageRateLimit(2, () => nowMs);
    expect(limit.admit('192.0.2.1')).toBeNull();
    expect(limit.admit('192.0.2.1')).toBeNull();
    nowMs += 20_000;
    expect(limit.admit('192.0.2.1')).toEqual({
      code: 450,
      enhanced: '4.7.1',
      text: 'Too many messages from 192.0.2.1 (more than 2 a minute); try again in 40 s',
    });
    // Another address has its own count; the IPv4-mapped form is the same client.
    expect(limit.admit('192.0.2.2')).toBeNull();
    expect(limit.admit('::ffff:192.0.2.1')?.code).toBe(450);
    nowMs += 40_000;
    expect(limit.admit('192.0.2.1')).toBeNull();
  });

  it('counts IPv6 clients by their /64', () => {
    const limit = new MessageRateLimit(1, () => 0);
    expect(limit.admit('2001:db8:1:2::1')).toBeNull();
    expect(limit.admit('2001:db8:1:2:ffff::9')?.text).toMatch(/^Too many messages from 2001:db8:1:2::\/64 /);
    expect(limit.admit('2001:db8:1:3::1')).toBeNull();
  });
});
