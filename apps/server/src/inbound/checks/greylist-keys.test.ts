import { describe, expect, it } from 'vitest';
import { greylistClientKey, greylistSenderKey } from './greylist-keys.js';

describe('greylisting keys', () => {
  it('groups clients by /24 and /64 (Postgrey --lookup-by-subnet)', () => {
    const prefixes = { ipv4: 24, ipv6: 64 };
    expect(greylistClientKey('192.0.2.17', prefixes)).toBe('192.0.2.0/24');
    expect(greylistClientKey('192.0.2.250', prefixes)).toBe('192.0.2.0/24');
    expect(greylistClientKey('::ffff:192.0.2.9', prefixes)).toBe('192.0.2.0/24');
    expect(greylistClientKey('2001:db8:1:2:aaaa::1', prefixes)).toBe('2001:db8:1:2::/64');
    expect(greylistClientKey('2001:db8:1:3::1', prefixes)).toBe('2001:db8:1:3::/64');
    expect(greylistClientKey('192.0.2.17', { ipv4: 32, ipv6: 128 })).toBe('192.0.2.17/32');
  });

  it('normalises senders so VERP, BATV and sub-addresses match their retry', () => {
    expect(greylistSenderKey('Bounce+12345@Lists.Example')).toBe('bounce@lists.example');
    expect(greylistSenderKey('prvs=1234abcd=alice@example.com')).toBe('alice@example.com');
    expect(greylistSenderKey('bounces-4711-99@example.com')).toBe('bounces-#-#@example.com');
    expect(greylistSenderKey(null)).toBe('');
  });
});
