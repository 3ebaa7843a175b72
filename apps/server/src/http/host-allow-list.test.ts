import { describe, expect, it } from 'vitest';
import { parseAuthority } from '../config/parse-authority.js';
import { HostAllowList } from './host-allow-list.js';

describe('parseAuthority', () => {
  it.each([
    ['localhost:8025', { name: 'localhost', port: 8025 }],
    ['LocalHost.', { name: 'localhost', port: null }],
    ['[::1]:8025', { name: '::1', port: 8025 }],
    ['::1', { name: '::1', port: null }],
    ['[::ffff:127.0.0.1]:80', { name: '127.0.0.1', port: 80 }],
    ['mail.example.com', { name: 'mail.example.com', port: null }],
  ])('%s', (text, expected) => expect(parseAuthority(text)).toEqual(expected));

  it.each([
    '',
    'a b',
    'evil.example@localhost',
    'localhost:',
    'localhost:99999',
    '[::1',
    '[mail]:1',
    '-x.example',
  ])('refuses %j', (text) => expect(parseAuthority(text)).toBeNull());
});

describe('HostAllowList', () => {
  const endpoint = { address: '127.0.0.1', port: 8025 };

  it('answers its own names only on the port the request came in on', () => {
    const list = new HostAllowList({ bindHost: '127.0.0.1', extraHosts: [] });
    expect(list.allows('localhost:8025', endpoint, 80)).toBe(true);
    expect(list.allows('[::1]:8025', endpoint, 80)).toBe(true);
    expect(list.allows('localhost:8026', endpoint, 80)).toBe(false);
    expect(list.allows('localhost', endpoint, 80)).toBe(false);
    expect(list.allows('localhost', { ...endpoint, port: 80 }, 80)).toBe(true);
    expect(list.allows('rebind.attacker.example:8025', endpoint, 80)).toBe(false);
  });

  it('with a wildcard bind, answers the address the connection reached (a dual-stack socket maps IPv4)', () => {
    const list = new HostAllowList({ bindHost: '::', extraHosts: [] });
    const reached = { address: '::ffff:192.0.2.2', port: 8025 };
    expect(list.allows('192.0.2.2:8025', reached, 80)).toBe(true);
    expect(list.allows('192.0.2.3:8025', reached, 80)).toBe(false);
    expect(list.allows('[::]:8025', reached, 80)).toBe(false);
  });

  it('answers a configured name on any port, a configured name:port on that port', () => {
    const list = new HostAllowList({
      bindHost: '0.0.0.0',
      extraHosts: ['Mail.Example.com', 'proxy.example:8443'],
    });
    expect(list.allows('mail.example.com', endpoint, 443)).toBe(true);
    expect(list.allows('mail.example.com:1', endpoint, 80)).toBe(true);
    expect(list.allows('proxy.example:8443', endpoint, 80)).toBe(true);
    expect(list.allows('proxy.example', endpoint, 443)).toBe(false);
    expect(() => new HostAllowList({ bindHost: '127.0.0.1', extraHosts: ['a b'] })).toThrow(/a b/);
  });
});
