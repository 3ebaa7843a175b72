import { startDnsStub } from '@smtp/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { schemaErrors } from './helpers/schemas.js';

// `smtp mx` resolves through node:dns against a DNS stub on a loopback port (--dns-server).
describe('smtp mx', () => {
  let dns: Awaited<ReturnType<typeof startDnsStub>>;

  beforeAll(async () => {
    dns = await startDnsStub({
      'example.test': {
        mx: [
          { preference: 20, exchange: 'backup.example.test' },
          { preference: 10, exchange: 'mx1.example.test' },
        ],
      },
      'mx1.example.test': { a: ['192.0.2.1'], aaaa: ['2001:db8::1'] },
      'backup.example.test': { a: ['192.0.2.2'] },
      'bare.test': { a: ['192.0.2.9'] },
      'nullmx.test': { mx: [{ preference: 0, exchange: '.' }] },
      'broken.test': { servfail: true },
      'xn--bcher-kva.test': { mx: [{ preference: 10, exchange: 'mx1.example.test' }] },
      'sts.test': {
        mx: [
          { preference: 10, exchange: 'mx1.example.test' },
          { preference: 20, exchange: 'backup.example.test' },
        ],
      },
      '_mta-sts.sts.test': { txt: ['v=spf1 -all', 'v=STSv1; id=20261123T000000'] },
      '_smtp._tls.sts.test': { txt: ['v=TLSRPTv1; rua=mailto:tls-reports@sts.test'] },
      'sts-local.test': { mx: [{ preference: 10, exchange: 'mx1.example.test' }] },
      '_mta-sts.sts-local.test': { txt: ['v=STSv1; id=1'] },
      'mta-sts.sts-local.test': { a: ['127.0.0.1'] },
    });
  });
  afterAll(async () => {
    await dns?.close();
  });

  it('lists MX hosts by preference with addresses and a delivery plan (IPv6 first)', async () => {
    const result = await runCli(['mx', 'example.test', '--dns-server', dns.address, '--json']);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(schemaErrors('mx', report)).toBe('');
    expect(
      report.hosts.map((host: { exchange: string; preference: number }) => [host.preference, host.exchange]),
    ).toEqual([
      [10, 'mx1.example.test'],
      [20, 'backup.example.test'],
    ]);
    expect(report.plan.map((step: { address: string }) => step.address)).toEqual([
      '2001:db8::1',
      '192.0.2.1',
      '192.0.2.2',
    ]);
    const text = await runCli(['mx', 'example.test', '--dns-server', dns.address]);
    expect(text.stdout).toMatch(/1\. \[2001:db8::1\]:25 \(mx1\.example\.test\)/);
  });

  it('falls back to the A record without MX (implicit MX, RFC 5321 §5.1)', async () => {
    const result = await runCli(['mx', 'user@bare.test', '--json'], {
      env: { SMTP_DNS_SERVER: dns.address },
    });
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(schemaErrors('mx', report)).toBe('');
    expect(report.hosts).toEqual([
      {
        exchange: 'bare.test',
        preference: 0,
        implicit: true,
        ipv6: [],
        ipv4: ['192.0.2.9'],
        error: null,
        mtaStsAllowed: null,
      },
    ]);
  });

  it('looks up an internationalized name by its A-labels (RFC 6531 §3.2) and refuses one that is no IDN', async () => {
    const result = await runCli(['mx', 'user@BÜCHER.test', '--dns-server', dns.address, '--json']);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(schemaErrors('mx', report)).toBe('');
    expect(report.domain).toBe('xn--bcher-kva.test');
    expect(report.hosts.map((host: { exchange: string }) => host.exchange)).toEqual(['mx1.example.test']);
    for (const bad of ['a\u200db.test', 'exa mple.test', '[192.0.2.1]']) {
      const refused = await runCli(['mx', bad, '--dns-server', dns.address]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/is not a domain name/);
    }
  });

  it('says when a domain publishes no MTA-STS policy, and skips the lookup with --no-mta-sts', async () => {
    const result = await runCli(['mx', 'example.test', '--dns-server', dns.address, '--json']);
    expect(JSON.parse(result.stdout)).toMatchObject({
      mtaSts: { id: null, policy: null, error: null },
      tlsRpt: null,
    });
    const text = await runCli(['mx', 'example.test', '--dns-server', dns.address]);
    expect(text.stdout).toContain('MTA-STS: no policy published');
    const skipped = await runCli([
      'mx',
      'example.test',
      '--dns-server',
      dns.address,
      '--no-mta-sts',
      '--json',
    ]);
    const report = JSON.parse(skipped.stdout);
    expect(schemaErrors('mx', report)).toBe('');
    expect(report.mtaSts).toBeNull();
  });

  it('reports the MTA-STS record, why its policy could not be fetched (RFC 8461 §3.3), and TLS-RPT (RFC 8460)', async () => {
    // mta-sts.sts.test resolves nowhere on this machine: the HTTPS fetch fails, the report says so.
    const result = await runCli(['mx', 'sts.test', '--dns-server', dns.address, '--timeout', '2s', '--json']);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(schemaErrors('mx', report)).toBe('');
    expect(report.mtaSts).toMatchObject({ id: '20261123T000000', policy: null });
    expect(report.mtaSts.error).toMatch(
      /could not be fetched from https:\/\/mta-sts\.sts\.test\/\.well-known\/mta-sts\.txt/,
    );
    expect(report.hosts.map((host: { mtaStsAllowed: boolean | null }) => host.mtaStsAllowed)).toEqual([
      null,
      null,
    ]);
    expect(report.tlsRpt).toEqual({ rua: ['mailto:tls-reports@sts.test'] });
    const text = await runCli(['mx', 'sts.test', '--dns-server', dns.address, '--timeout', '2s']);
    expect(text.stdout).toContain('TLS-RPT: failures are reported to mailto:tls-reports@sts.test');
  });

  it('looks up the MTA-STS policy host through --dns-server too', async () => {
    // Only the stub knows mta-sts.sts-local.test (127.0.0.1): the system resolver would say ENOTFOUND.
    // Nothing serves HTTPS on 127.0.0.1:443 here, so the fetch itself fails after the lookup.
    const result = await runCli([
      'mx',
      'sts-local.test',
      '--dns-server',
      dns.address,
      '--timeout',
      '2s',
      '--json',
    ]);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.mtaSts.error).toMatch(/could not be fetched/);
    expect(report.mtaSts.error).not.toMatch(/ENOTFOUND|EAI_AGAIN/);
    expect(dns.queries.some((query) => query.name === 'mta-sts.sts-local.test')).toBe(true);
  });

  it('reports Null MX (RFC 7505) with exit 3', async () => {
    const result = await runCli(['mx', 'nullmx.test', '--dns-server', dns.address]);
    expect(result.code).toBe(3);
    expect(result.stdout).toMatch(/Null MX/);
  });

  it('exits 3 for a domain that does not exist and 2 for SERVFAIL', async () => {
    const missing = await runCli(['mx', 'missing.test', '--dns-server', dns.address, '--json']);
    expect(missing.code).toBe(3);
    expect(JSON.parse(missing.stdout)).toMatchObject({ result: 'no-domain' });
    const broken = await runCli(['mx', 'broken.test', '--dns-server', dns.address, '--json']);
    expect(broken.code).toBe(2);
    expect(schemaErrors('mx', JSON.parse(broken.stdout))).toBe('');
  });

  it('rejects a DNS server given as a name', async () => {
    const result = await runCli(['mx', 'example.test', '--dns-server', 'dns.example']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/--dns-server/);
  });
});
