import { describe, expect, it } from 'vitest';
import { formatDate, formatReceivedHeader } from './received-header.js';

const base = {
  hostname: 'mail.example.com',
  clientHostname: 'client.test',
  clientAddress: '192.0.2.1',
  protocol: 'ESMTPSA' as const,
  id: 'ABC123',
  recipients: ['bob@example.org'],
  tls: { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' },
  date: new Date(Date.UTC(2026, 11, 6, 9, 8, 7)),
};

describe('formatReceivedHeader (RFC 5321 §4.4)', () => {
  it('writes from, TLS, by/with/id, for and the date, folded with CRLF + tab', () => {
    expect(formatReceivedHeader(base)).toBe(
      'Received: from client.test (client.test [192.0.2.1])\r\n' +
        '\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384)\r\n' +
        '\tby mail.example.com with ESMTPSA id ABC123\r\n' +
        '\tfor <bob@example.org>;\r\n' +
        '\tSun, 06 Dec 2026 09:08:07 +0000\r\n',
    );
  });

  it('leaves out "for" with several recipients and the TLS comment without TLS', () => {
    expect(
      formatReceivedHeader({ ...base, recipients: ['a@x.test', 'b@x.test'], tls: null, protocol: 'ESMTPA' }),
    ).toBe(
      'Received: from client.test (client.test [192.0.2.1])\r\n' +
        '\tby mail.example.com with ESMTPA id ABC123;\r\n' +
        '\tSun, 06 Dec 2026 09:08:07 +0000\r\n',
    );
  });

  it.each([
    ['2001:db8::25', '[IPv6:2001:db8::25]'],
    ['::ffff:192.0.2.9', '[192.0.2.9]'],
    ['::1', '[IPv6:::1]'],
  ])('writes the client address %s as %s', (clientAddress, literal) => {
    expect(formatReceivedHeader({ ...base, clientAddress })).toContain(`(client.test ${literal})`);
  });

  it('names an unknown client', () => {
    expect(formatReceivedHeader({ ...base, clientHostname: null })).toMatch(
      /^Received: from unknown \(unknown /,
    );
  });
});

describe('formatDate (RFC 5322 §3.3)', () => {
  it('writes UTC with a numeric zone', () => {
    expect(formatDate(new Date(Date.UTC(2027, 0, 2, 3, 4, 5)))).toBe('Sat, 02 Jan 2027 03:04:05 +0000');
  });
});
