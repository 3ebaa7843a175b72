import { describe, expect, it } from 'vitest';
import { createNetworkList } from './network-list.js';

describe('createNetworkList', () => {
  const list = createNetworkList(['192.0.2.0/24', '10.1.2.3', '2001:db8::/32', '::1']);

  it.each([
    ['192.0.2.0', true],
    ['192.0.2.255', true],
    ['192.0.3.0', false],
    ['192.0.1.255', false],
    ['10.1.2.3', true],
    ['10.1.2.4', false],
    ['::ffff:192.0.2.7', true], // IPv4-mapped, as dual-stack sockets report IPv4 clients
    ['::ffff:10.1.2.4', false],
    ['2001:db8::1', true],
    ['2001:db8:ffff:ffff::1', true],
    ['2001:db9::1', false],
    ['::1', true],
    ['::2', false],
    ['127.0.0.1', false],
    ['', false],
    ['/run/smtp.sock', false],
    ['not-an-address', false],
  ])('%j → %s', (address, expected) => {
    expect(list.contains(address)).toBe(expected);
  });

  it('an IPv4 range never matches an IPv6 client of the same bits', () => {
    expect(createNetworkList(['0.0.0.0/0']).contains('::')).toBe(false);
    expect(createNetworkList(['::/0']).contains('0.0.0.0')).toBe(false);
    expect(createNetworkList(['0.0.0.0/0']).contains('203.0.113.9')).toBe(true);
  });

  it('answers the same when asked again, also after more clients than it remembers', () => {
    const remembered = createNetworkList(['192.0.2.0/24']);
    const answersOf = () =>
      Array.from({ length: 5000 }, (_, index) =>
        remembered.contains(`192.0.${2 + (index % 2)}.${index % 256}`),
      );
    const first = answersOf();
    expect(first.filter(Boolean)).toHaveLength(2500);
    expect(answersOf()).toEqual(first);
    expect(remembered.contains('192.0.3.1')).toBe(false);
    expect(remembered.contains('192.0.2.1')).toBe(true);
  });

  it('an empty list contains nothing', () => {
    expect(createNetworkList([]).contains('127.0.0.1')).toBe(false);
  });
});
