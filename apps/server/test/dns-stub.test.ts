import { Resolver } from 'node:dns/promises';
import { type DnsStub, dnsblName, startDnsStub, txtCharacterStrings } from '@smtp/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The shared DNS stub (@smtp/test-support) as the MTA's tests use it: node:dns's real resolver against
// records the test controls, changed while the stub runs.
describe('DNS stub', () => {
  let dns: DnsStub;
  let resolver: Resolver;
  const longKey = `v=DKIM1; k=rsa; p=${'A'.repeat(392)}`;

  beforeAll(async () => {
    dns = await startDnsStub({
      'example.test': {
        mx: [{ preference: 10, exchange: 'mx.example.test' }],
        txt: ['v=spf1 ip4:192.0.2.1 -all'],
      },
      'mx.example.test': { a: ['192.0.2.1'], aaaa: ['2001:db8::1'] },
      'sel._domainkey.example.test': { txt: [longKey] },
      'split._domainkey.example.test': { txt: [['v=DKIM1; k=ed25519; ', 'p=abc']] },
      '_dmarc.example.test': { txt: ['v=DMARC1; p=reject'] },
      '_mta-sts.example.test': { txt: ['v=STSv1; id=1'] },
      'broken.test': { servfail: true },
    });
    resolver = new Resolver({ timeout: 2000, tries: 1 });
    resolver.setServers([dns.address]);
  });
  afterAll(async () => {
    await dns?.close();
  });

  it('answers MX, A, AAAA and TXT (SPF, DMARC, MTA-STS)', async () => {
    expect(await resolver.resolveMx('example.test')).toEqual([{ priority: 10, exchange: 'mx.example.test' }]);
    expect(await resolver.resolve4('mx.example.test')).toEqual(['192.0.2.1']);
    expect(await resolver.resolve6('mx.example.test')).toEqual(['2001:db8::1']);
    expect(await resolver.resolveTxt('example.test')).toEqual([['v=spf1 ip4:192.0.2.1 -all']]);
    expect(await resolver.resolveTxt('_dmarc.example.test')).toEqual([['v=DMARC1; p=reject']]);
    expect(await resolver.resolveTxt('_mta-sts.EXAMPLE.test')).toEqual([['v=STSv1; id=1']]);
  });

  it('cuts a long TXT record into 255-byte character-strings, or sends the ones given', async () => {
    const [record] = await resolver.resolveTxt('sel._domainkey.example.test');
    expect(record?.map((part) => part.length)).toEqual([255, longKey.length - 255]);
    expect(record?.join('')).toBe(longKey);
    expect(await resolver.resolveTxt('split._domainkey.example.test')).toEqual([
      ['v=DKIM1; k=ed25519; ', 'p=abc'],
    ]);
    expect(txtCharacterStrings('x'.repeat(600)).map((part) => part.length)).toEqual([255, 255, 90]);
    expect(txtCharacterStrings('').map((part) => part.length)).toEqual([0]);
  });

  it('refuses a character-string over 255 bytes', () => {
    expect(() => dns.zone.set('bad.test', { txt: [['x'.repeat(256)]] })).toThrow(
      /at most 255 bytes, got 256/,
    );
    expect(() => dns.zone.set('bad.test', { a: ['2001:db8::1'] })).toThrow(/not IPv4/);
    expect(dns.zone.get('bad.test')).toBeUndefined();
  });

  it('answers NXDOMAIN for absent names, NODATA for absent types and SERVFAIL on request', async () => {
    await expect(resolver.resolveMx('absent.test')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(resolver.resolve6('example.test')).rejects.toMatchObject({ code: 'ENODATA' });
    await expect(resolver.resolveMx('broken.test')).rejects.toMatchObject({ code: 'ESERVFAIL' });
  });

  it('serves the zone as changed while it runs, and records each question', async () => {
    await expect(resolver.resolve4('late.test')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    dns.zone.set('late.test.', { a: ['192.0.2.7'] });
    expect(await resolver.resolve4('LATE.test')).toEqual(['192.0.2.7']);
    dns.zone.set('late.test', { a: ['192.0.2.8'] });
    expect(await resolver.resolve4('late.test')).toEqual(['192.0.2.8']);
    dns.zone.delete('late.test');
    await expect(resolver.resolve4('late.test')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    const lateQueries = dns.queries.filter((query) => query.name === 'late.test');
    expect(lateQueries.map((query) => query.type)).toEqual(['A', 'A', 'A', 'A']);
  });

  it('serves DNSBL listings: reversed IPv4 octets and IPv6 nibbles under the list zone', async () => {
    expect(dnsblName('192.0.2.99', 'bl.test')).toBe('99.2.0.192.bl.test');
    expect(dnsblName('2001:db8::1', 'bl.test.')).toBe(`1.${'0.'.repeat(23)}8.b.d.0.1.0.0.2.bl.test`);
    expect(() => dnsblName('not-an-ip', 'bl.test')).toThrow(/not an IP address/);
    dns.zone.set(dnsblName('192.0.2.99', 'bl.test'), { a: ['127.0.0.2'], txt: ['listed: spam trap'] });
    expect(await resolver.resolve4('99.2.0.192.bl.test')).toEqual(['127.0.0.2']);
    expect(await resolver.resolveTxt('99.2.0.192.bl.test')).toEqual([['listed: spam trap']]);
    await expect(resolver.resolve4('1.2.0.192.bl.test')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  it('truncates an answer too long for UDP and answers the same question over TCP', async () => {
    const records = Array.from({ length: 12 }, (_, index) => `record-${index}-${'x'.repeat(200)}`);
    dns.zone.set('big.test', { txt: records });
    const answer = await resolver.resolveTxt('big.test');
    expect(answer.map((parts) => parts.join('')).sort()).toEqual([...records].sort());
    const transports = dns.queries
      .filter((query) => query.name === 'big.test')
      .map((query) => query.transport);
    expect(transports).toEqual(['udp', 'tcp']);
  });
});
