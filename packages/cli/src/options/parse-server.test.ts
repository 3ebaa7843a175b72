import { describe, expect, it } from 'vitest';
import { formatServerAddress, parseServerAddress } from './parse-server.js';

describe('parseServerAddress', () => {
  it.each([
    ['mail.example.com', { host: 'mail.example.com', port: 25 }],
    ['mail.example.com:587', { host: 'mail.example.com', port: 587 }],
    ['[2001:db8::1]:2525', { host: '2001:db8::1', port: 2525 }],
    ['2001:db8::1', { host: '2001:db8::1', port: 25 }],
    ['[::1]', { host: '::1', port: 25 }],
  ])('%s', (text, expected) => {
    expect(parseServerAddress(text, 25)).toEqual(expected);
  });

  it.each(['', 'host:0', 'host:70000', 'host:abc', 'a b:25'])('refuses %j with a usage error', (text) => {
    expect(() => parseServerAddress(text, 25)).toThrow(/--server/);
  });

  it('allows port 0 only when asked (serve --listen)', () => {
    expect(parseServerAddress('127.0.0.1:0', 2525, '--listen', { allowPortZero: true }).port).toBe(0);
  });

  it('brackets IPv6 addresses when formatting', () => {
    expect(formatServerAddress({ host: '::1', port: 25 })).toBe('[::1]:25');
  });
});
