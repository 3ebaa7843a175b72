import { describe, expect, it } from 'vitest';
import { type MxResolver, resolveMx } from './resolve-mx.js';

const error = (code: string) => Object.assign(new Error(code), { code });
const resolver = (resolveMxImpl: MxResolver['resolveMx']): MxResolver => ({
  resolveMx: resolveMxImpl,
  resolve4: async () => [],
  resolve6: async () => [],
});

describe('resolveMx (RFC 5321 §5.1, RFC 7505)', () => {
  it('orders hosts by preference, lowest first, without duplicates', async () => {
    const result = await resolveMx(
      'example.test',
      resolver(async () => [
        { exchange: 'c.example.test', priority: 30 },
        { exchange: 'A.example.test.', priority: 10 },
        { exchange: 'b.example.test', priority: 20 },
        { exchange: 'a.example.test', priority: 40 },
      ]),
    );
    expect(result).toEqual({
      kind: 'hosts',
      hosts: [
        { exchange: 'a.example.test', preference: 10, implicit: false },
        { exchange: 'b.example.test', preference: 20, implicit: false },
        { exchange: 'c.example.test', preference: 30, implicit: false },
      ],
    });
  });

  it('shuffles hosts of equal preference', async () => {
    const records = [
      { exchange: 'one.test', priority: 10 },
      { exchange: 'two.test', priority: 10 },
    ];
    const first = await resolveMx(
      'x.test',
      resolver(async () => records),
      (() => {
        let n = 0;
        return () => [0.9, 0.1][n++ % 2] ?? 0;
      })(),
    );
    const second = await resolveMx(
      'x.test',
      resolver(async () => records),
      (() => {
        let n = 0;
        return () => [0.1, 0.9][n++ % 2] ?? 0;
      })(),
    );
    expect(first.kind === 'hosts' && first.hosts.map((host) => host.exchange)).toEqual([
      'two.test',
      'one.test',
    ]);
    expect(second.kind === 'hosts' && second.hosts.map((host) => host.exchange)).toEqual([
      'one.test',
      'two.test',
    ]);
  });

  it('uses the domain itself when it has no MX records (implicit MX)', async () => {
    expect(
      await resolveMx(
        'example.test',
        resolver(async () => Promise.reject(error('ENODATA'))),
      ),
    ).toEqual({
      kind: 'hosts',
      hosts: [{ exchange: 'example.test', preference: 0, implicit: true }],
    });
  });

  it('recognises a Null MX and ignores one mixed with real hosts', async () => {
    expect(
      (
        await resolveMx(
          'x.test',
          resolver(async () => [{ exchange: '', priority: 0 }]),
        )
      ).kind,
    ).toBe('null-mx');
    const mixed = await resolveMx(
      'x.test',
      resolver(async () => [
        { exchange: '', priority: 0 },
        { exchange: 'mx.x.test', priority: 5 },
      ]),
    );
    expect(mixed.kind === 'hosts' && mixed.hosts.map((host) => host.exchange)).toEqual(['mx.x.test']);
  });

  it('tells a missing domain from a temporary failure', async () => {
    expect(
      (
        await resolveMx(
          'x.test',
          resolver(async () => Promise.reject(error('ENOTFOUND'))),
        )
      ).kind,
    ).toBe('no-domain');
    expect(
      (
        await resolveMx(
          'x.test',
          resolver(async () => Promise.reject(error('ETIMEOUT'))),
        )
      ).kind,
    ).toBe('temporary');
  });
});
