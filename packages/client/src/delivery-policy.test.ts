import { describe, expect, it } from 'vitest';
import { routeDomain } from './delivery-policy.js';
import { MtaStsCache } from './mta-sts.js';
import type { MxResolver } from './resolve-mx.js';

const enforcing = 'version: STSv1\nmode: enforce\nmx: mx.example.test\nmax_age: 60\n';

function resolver(mx: 'servfail' | { exchange: string; priority: number }[]): MxResolver {
  return {
    async resolveMx() {
      if (mx === 'servfail') throw Object.assign(new Error('SERVFAIL'), { code: 'ESERVFAIL' });
      return mx;
    },
    resolve4: async () => ['127.0.0.1'],
    resolve6: async () => [],
    resolveTxt: async () => [['v=STSv1; id=1']],
  };
}

const base = {
  resolver: resolver([{ exchange: 'mx.example.test', priority: 10 }]),
  requireTls: false,
  mtaSts: { fetchPolicy: async () => enforcing, cache: new MtaStsCache() },
  isTlsOptional: false,
  maxHosts: 5,
  signal: new AbortController().signal,
};

describe('routeDomain', () => {
  it('sends an address literal to its address, but never with REQUIRETLS (no name to verify)', async () => {
    const literal = { kind: 'ipv4', address: '192.0.2.1' } as const;
    expect(await routeDomain('[192.0.2.1]', literal, base)).toMatchObject({
      kind: 'hosts',
      hosts: [{ exchange: '192.0.2.1', addresses: ['192.0.2.1'] }],
    });
    expect(await routeDomain('[192.0.2.1]', literal, { ...base, requireTls: true })).toMatchObject({
      kind: 'settled',
      status: 'failed',
      reply: { code: 550, enhanced: '5.7.10' },
    });
  });

  it('defers on a DNS failure and fails a general address literal', async () => {
    const name = { kind: 'name', name: 'example.test' } as const;
    expect(
      await routeDomain('example.test', name, { ...base, resolver: resolver('servfail') }),
    ).toMatchObject({
      kind: 'settled',
      status: 'deferred',
      reply: { code: 451, enhanced: '4.4.3' },
    });
    const general = { kind: 'general', tag: 'x400', content: 'c=us' } as const;
    expect(await routeDomain('[x400:c=us]', general, base)).toMatchObject({
      status: 'failed',
      reply: { enhanced: '5.1.2' },
    });
  });

  it('applies an enforced policy as in testing mode to a message marked TLS-Required: No', async () => {
    const name = { kind: 'name', name: 'example.test' } as const;
    expect((await routeDomain('example.test', name, base)).policy?.mode).toBe('enforce');
    const optional = { ...base, isTlsOptional: true, mtaSts: { ...base.mtaSts, cache: new MtaStsCache() } };
    expect((await routeDomain('example.test', name, optional)).policy?.mode).toBe('testing');
  });
});
