import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { discoverMtaStsPolicy, fetchMtaStsPolicy, MtaStsCache } from './mta-sts.js';
import type { MxResolver } from './resolve-mx.js';

const policyText = 'version: STSv1\nmode: enforce\nmx: mx.example.test\nmax_age: 86400\n';
const noAddresses = async () => [];

/** A resolver whose TXT answer for _mta-sts.example.test can be changed, or made to fail. */
function txtResolver(initial: string[] | 'fail') {
  const state = { answer: initial, lookups: 0 };
  const resolver: MxResolver = {
    resolveMx: async () => [],
    resolve4: noAddresses,
    resolve6: noAddresses,
    async resolveTxt(name) {
      state.lookups += 1;
      if (name !== '_mta-sts.example.test' || state.answer === 'fail')
        throw Object.assign(new Error('x'), { code: 'ESERVFAIL' });
      return state.answer.map((record) => [record]);
    },
  };
  return { resolver, state };
}

function countingFetcher(texts: (string | Error)[]) {
  const urls: string[] = [];
  return {
    urls,
    fetchPolicy: async (url: string) => {
      urls.push(url);
      const next = texts[Math.min(urls.length - 1, texts.length - 1)] as string | Error;
      if (next instanceof Error) throw next;
      return next;
    },
  };
}

const signal = new AbortController().signal;

describe('discoverMtaStsPolicy (RFC 8461 §3, §5.1)', () => {
  it('fetches the policy the TXT record announces, once per policy id', async () => {
    const { resolver, state } = txtResolver(['v=STSv1; id=1']);
    const fetcher = countingFetcher([policyText, policyText.replace('86400', '600')]);
    const options = { fetchPolicy: fetcher.fetchPolicy, cache: new MtaStsCache() };
    const first = await discoverMtaStsPolicy('example.test', resolver, options, signal);
    expect(first).toEqual({ mode: 'enforce', maxAgeSeconds: 86400, mx: ['mx.example.test'] });
    expect(fetcher.urls).toEqual(['https://mta-sts.example.test/.well-known/mta-sts.txt']);
    await discoverMtaStsPolicy('example.test', resolver, options, signal);
    expect(fetcher.urls).toHaveLength(1);
    state.answer = ['v=STSv1; id=2'];
    expect((await discoverMtaStsPolicy('example.test', resolver, options, signal))?.maxAgeSeconds).toBe(600);
    expect(fetcher.urls).toHaveLength(2);
  });

  it('keeps applying a cached policy when DNS or the fetch fails, so blocking them switches nothing off', async () => {
    const { resolver, state } = txtResolver(['v=STSv1; id=1']);
    const fetcher = countingFetcher([policyText, new Error('connection refused')]);
    const options = { fetchPolicy: fetcher.fetchPolicy, cache: new MtaStsCache() };
    await discoverMtaStsPolicy('example.test', resolver, options, signal);
    state.answer = 'fail';
    expect((await discoverMtaStsPolicy('example.test', resolver, options, signal))?.mode).toBe('enforce');
    state.answer = ['v=STSv1; id=2'];
    expect((await discoverMtaStsPolicy('example.test', resolver, options, signal))?.mode).toBe('enforce');
    expect(fetcher.urls).toHaveLength(2);
  });

  it('finds none without a record, with an invalid policy, or with a resolver that cannot ask for TXT', async () => {
    const cache = new MtaStsCache();
    const fetcher = countingFetcher(['<html>not a policy</html>']);
    const none = txtResolver([]);
    expect(
      await discoverMtaStsPolicy('example.test', none.resolver, { ...fetcher, cache }, signal),
    ).toBeNull();
    expect(fetcher.urls).toHaveLength(0);
    const invalid = txtResolver(['v=STSv1; id=1']);
    expect(
      await discoverMtaStsPolicy('example.test', invalid.resolver, { ...fetcher, cache }, signal),
    ).toBeNull();
    const { resolveTxt: _omitted, ...withoutTxt } = invalid.resolver;
    expect(await discoverMtaStsPolicy('example.test', withoutTxt, { ...fetcher, cache }, signal)).toBeNull();
  });
});

describe('MtaStsCache', () => {
  const policy = { mode: 'enforce', maxAgeSeconds: 60, mx: ['mx.example.test'] } as const;

  it('forgets a policy when its max_age has run out', () => {
    const cache = new MtaStsCache();
    cache.set('example.test', '1', policy, 1_000);
    expect(cache.get('example.test', 60_999)?.id).toBe('1');
    expect(cache.get('example.test', 61_000)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('holds at most maxEntries policies, dropping the one stored longest ago', () => {
    const cache = new MtaStsCache({ maxEntries: 2 });
    cache.set('a.test', '1', policy, 0);
    cache.set('b.test', '1', policy, 0);
    cache.set('a.test', '2', policy, 0); // stored again: now the newest
    cache.set('c.test', '1', policy, 0);
    expect(cache.size).toBe(2);
    expect(cache.get('b.test', 0)).toBeUndefined();
    expect(cache.get('a.test', 0)?.id).toBe('2');
  });
});

describe('fetchMtaStsPolicy (RFC 8461 §3.3)', () => {
  let server: Server | null = null;
  afterEach(async () => {
    await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
    server = null;
  });

  async function serve(status: number, headers: Record<string, string>, body: string): Promise<string> {
    server = createServer((_request, response) => {
      response.writeHead(status, headers);
      response.end(body);
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/mta-sts.txt`;
  }

  it('reads a text/plain policy', async () => {
    const url = await serve(200, { 'content-type': 'text/plain; charset=utf-8' }, policyText);
    expect(await fetchMtaStsPolicy(url, signal)).toBe(policyText);
  });

  it('refuses a redirect, another status, another content type and a body over 64 KB', async () => {
    const cases: [number, Record<string, string>, string, RegExp][] = [
      [301, { location: 'https://elsewhere.test/' }, '', /HTTP 301/],
      [404, { 'content-type': 'text/plain' }, 'missing', /HTTP 404/],
      [200, { 'content-type': 'text/html' }, policyText, /not text\/plain/],
      [200, { 'content-type': 'text/plain' }, 'x'.repeat(70_000), /larger than 65536/],
    ];
    for (const [status, headers, body, message] of cases) {
      const url = await serve(status, headers, body);
      await expect(fetchMtaStsPolicy(url, signal)).rejects.toThrow(message);
      await new Promise((resolve) => server?.close(resolve));
      server = null;
    }
  });
});
