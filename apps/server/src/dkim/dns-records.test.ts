import { describe, expect, it } from 'vitest';
import { dnsRecordsToPublish, formatDnsRecords, zoneLine } from './dns-records.js';

const rsaKey = 'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA'.padEnd(392, 'Q');
const input = {
  hostname: 'mail.example.test.',
  domains: ['Example.test'],
  selectors: { rsa: 'rsa1', ed25519: 'ed1' },
  keys: { rsa: rsaKey, ed25519: 'iBBEZwYqLyT9kd3l3ohlZ38d1vjZ5uY47GVg/YzQ7VQ=' },
};

describe('dnsRecordsToPublish', () => {
  it('lists MX, SPF, both DKIM keys, DMARC, MTA-STS and TLS-RPT per domain', () => {
    expect(dnsRecordsToPublish(input).map(({ name, type, value }) => [name, type, value])).toEqual([
      ['example.test', 'MX', '10 mail.example.test.'],
      ['example.test', 'TXT', 'v=spf1 mx -all'],
      ['rsa1._domainkey.example.test', 'TXT', `v=DKIM1; k=rsa; p=${rsaKey}`],
      [
        'ed1._domainkey.example.test',
        'TXT',
        'v=DKIM1; k=ed25519; p=iBBEZwYqLyT9kd3l3ohlZ38d1vjZ5uY47GVg/YzQ7VQ=',
      ],
      ['_dmarc.example.test', 'TXT', 'v=DMARC1; p=none; rua=mailto:postmaster@example.test'],
      ['_mta-sts.example.test', 'TXT', 'v=STSv1; id=1'],
      ['_smtp._tls.example.test', 'TXT', 'v=TLSRPTv1; rua=mailto:postmaster@example.test'],
    ]);
  });

  it('adds the host address and names it in SPF when the IP is known', () => {
    const v4 = dnsRecordsToPublish({ ...input, ip: '192.0.2.10', mtaStsPolicyId: '20261206' });
    expect(v4[0]).toMatchObject({ name: 'mail.example.test', type: 'A', value: '192.0.2.10' });
    expect(v4[0]?.purpose).toContain('PTR record should name mail.example.test');
    expect(v4.find((record) => record.value.startsWith('v=spf1'))?.value).toBe(
      'v=spf1 mx ip4:192.0.2.10 -all',
    );
    expect(v4.find((record) => record.name.startsWith('_mta-sts'))?.value).toBe('v=STSv1; id=20261206');
    const v6 = dnsRecordsToPublish({ ...input, ip: '2001:db8::10' });
    expect(v6[0]).toMatchObject({ type: 'AAAA', value: '2001:db8::10' });
    expect(v6.find((record) => record.value.startsWith('v=spf1'))?.value).toBe(
      'v=spf1 mx ip6:2001:db8::10 -all',
    );
    expect(() => dnsRecordsToPublish({ ...input, ip: 'mail' })).toThrow(/not an IP address/);
  });

  it('writes zone lines, cutting long TXT text into 255-byte strings', () => {
    const records = dnsRecordsToPublish(input);
    const dkim = zoneLine(records[2] ?? records[0]!);
    const strings = [...dkim.matchAll(/"([^"]*)"/g)].map((match) => match[1] ?? '');
    expect(dkim.startsWith('rsa1._domainkey.example.test. IN TXT ( "v=DKIM1; k=rsa; p=')).toBe(true);
    expect(strings.map((text) => text.length)).toEqual([255, `v=DKIM1; k=rsa; p=${rsaKey}`.length - 255]);
    expect(strings.join('')).toBe(`v=DKIM1; k=rsa; p=${rsaKey}`);
    expect(zoneLine(records[0]!)).toBe('example.test. IN MX 10 mail.example.test.');
    expect(zoneLine(records[1]!)).toBe('example.test. IN TXT "v=spf1 mx -all"');
    const block = formatDnsRecords(records);
    expect(block.split('\n')).toHaveLength(records.length * 2);
    expect(block.split('\n')[0]).toBe('; where mail for the domain goes (RFC 5321 §5)');
  });
});
