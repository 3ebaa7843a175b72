import { describe, expect, it } from 'vitest';
import { classifyListAnswers, dnsListQueryName } from './dns-lists.js';

describe('DNS list answers (RFC 5782)', () => {
  it('builds the query name: reversed octets, reversed nibbles', () => {
    expect(dnsListQueryName('192.0.2.99', 'bl.test')).toBe('99.2.0.192.bl.test');
    expect(dnsListQueryName('::ffff:192.0.2.99', 'bl.test')).toBe('99.2.0.192.bl.test');
    expect(dnsListQueryName('2001:db8::1', 'bl.test')).toBe(`1.${'0.'.repeat(23)}8.b.d.0.1.0.0.2.bl.test`);
  });

  it('counts 127.0.0.0/8 listings and ignores the error answers', () => {
    expect(classifyListAnswers(['127.0.0.2'], undefined).status).toBe('listed');
    expect(classifyListAnswers(['127.0.0.10', '127.255.255.254'], undefined).status).toBe('listed');
    for (const error of [
      '127.255.255.252',
      '127.255.255.254',
      '127.255.255.255',
      '127.0.0.255',
      '127.0.0.1',
      '192.0.2.1',
    ])
      expect(classifyListAnswers([error], undefined).status).toBe('error');
  });

  it('counts only the configured answers when the list has several meanings', () => {
    expect(classifyListAnswers(['127.0.0.4'], ['127.0.0.2']).status).toBe('not-listed');
    expect(classifyListAnswers(['127.0.0.4', '127.0.0.2'], ['127.0.0.2']).status).toBe('listed');
  });
});
