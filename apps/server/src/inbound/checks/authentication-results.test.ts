import { describe, expect, it } from 'vitest';
import { formatAuthenticationResults, removeOwnAuthenticationResults } from './authentication-results.js';

describe('Authentication-Results (RFC 8601)', () => {
  it('formats one field, one result per line, or none', () => {
    expect(
      formatAuthenticationResults('mx.example', [
        'dkim=pass header.d=a.test',
        'spf=fail smtp.mailfrom=b@c.test',
      ]),
    ).toBe(
      'Authentication-Results: mx.example;\r\n\tdkim=pass header.d=a.test;\r\n\tspf=fail smtp.mailfrom=b@c.test\r\n',
    );
    expect(formatAuthenticationResults('mx.example', [])).toBe(
      'Authentication-Results: mx.example; none\r\n',
    );
  });

  it('removes fields claiming our authserv-id (any case, comments, folding) and keeps the others', () => {
    const message = Buffer.from(
      [
        'Authentication-Results: MX.Example; dkim=pass (forged)',
        'Authentication-Results: (a comment) mx.example;',
        '\tspf=pass',
        'Authentication-Results: other.example; spf=fail',
        'Authentication-Results: mx.example.evil; dkim=pass',
        'Subject: hi',
        '',
        'Authentication-Results: mx.example; body line, not a header',
        '',
      ].join('\r\n'),
    );
    expect(Buffer.from(removeOwnAuthenticationResults(message, 'mx.example')).toString()).toBe(
      [
        'Authentication-Results: other.example; spf=fail',
        'Authentication-Results: mx.example.evil; dkim=pass',
        'Subject: hi',
        '',
        'Authentication-Results: mx.example; body line, not a header',
        '',
      ].join('\r\n'),
    );
    const clean = Buffer.from('Subject: hi\r\n\r\nbody\r\n');
    expect(removeOwnAuthenticationResults(clean, 'mx.example')).toBe(clean);
  });
});
