import { describe, expect, it } from 'vitest';
import { checkLinks } from './link-checker.js';

describe('checkLinks refuses what is not public unicast (SSRF)', () => {
  it('refuses loopback, private, link-local (cloud metadata), unique-local and mapped addresses', async () => {
    const urls = [
      'http://127.0.0.1:9/',
      'http://10.1.2.3/',
      'http://192.168.0.1/',
      'http://169.254.169.254/latest/meta-data/',
      'http://[fd00::1]/',
      'http://[::ffff:127.0.0.1]/',
      'http://0.0.0.0/',
      'http://localhost:9/',
    ];
    const results = await checkLinks(urls, { timeoutMs: 500, maxRedirects: 1, allowPrivateAddresses: false });
    expect(results.map((result) => result.error?.replace(/ \(.*$/, ''))).toEqual([
      'refused: 127.0.0.1 is a loopback address',
      'refused: 10.1.2.3 is a private address',
      'refused: 192.168.0.1 is a private address',
      'refused: 169.254.169.254 is a linkLocal address',
      'refused: fd00::1 is a uniqueLocal address',
      'refused: ::ffff:7f00:1 is a loopback address', // the URL parser's spelling
      'refused: 0.0.0.0 is a unspecified address',
      'refused: localhost is a loopback address',
    ]);
    expect(results.every((result) => result.status === null && !result.isOk)).toBe(true);
  });

  it('does not check other schemes', async () => {
    const [result] = await checkLinks(['ftp://example.com/file'], {
      timeoutMs: 500,
      maxRedirects: 1,
      allowPrivateAddresses: false,
    });
    expect(result?.error).toBe('ftp: is not checked');
  });
});
