import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createTestCertificates } from '@smtp/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { createMtaStsFetcher } from './mta-sts-fetcher.js';

// A real HTTPS server on a loopback port with a certificate for mta-sts.example.test, which only the
// given resolver knows: the fetcher must resolve through it, not through the system's DNS.
const certificates = createTestCertificates({ hostname: 'mta-sts.example.test', ca: true });
const policy = 'version: STSv1\nmode: enforce\nmx: mx.example.test\nmax_age: 86400\n';
const resolver = {
  resolve4: async (hostname: string) => {
    if (hostname !== 'mta-sts.example.test')
      throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    return ['127.0.0.1'];
  },
  resolve6: async () => {
    throw Object.assign(new Error('no AAAA'), { code: 'ENODATA' });
  },
};

let server: Server | null = null;
afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = null;
});

async function serve(contentType: string, body: string, status = 200): Promise<number> {
  server = createServer({ cert: certificates.certPem, key: certificates.keyPem }, (_request, response) => {
    response.writeHead(status, { 'content-type': contentType });
    response.end(body);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return (server!.address() as AddressInfo).port;
}

const url = (port: number) => `https://mta-sts.example.test:${port}/.well-known/mta-sts.txt`;

describe('createMtaStsFetcher', () => {
  it('fetches the policy from the address the resolver gives, with the certificate verified', async () => {
    const port = await serve('text/plain; charset=utf-8', policy);
    const fetchPolicy = createMtaStsFetcher({ resolver, ca: certificates.caPem });
    expect(await fetchPolicy(url(port), AbortSignal.timeout(10_000))).toBe(policy);
  });

  it('refuses a certificate it cannot verify', async () => {
    const port = await serve('text/plain', policy);
    const fetchPolicy = createMtaStsFetcher({ resolver });
    await expect(fetchPolicy(url(port), AbortSignal.timeout(10_000))).rejects.toThrow(/certificate/i);
  });

  it('refuses a policy that is not text/plain, or not 200', async () => {
    const fetchPolicy = createMtaStsFetcher({ resolver, ca: certificates.caPem });
    const htmlPort = await serve('text/html', policy);
    await expect(fetchPolicy(url(htmlPort), AbortSignal.timeout(10_000))).rejects.toThrow(/not text\/plain/);
    await new Promise((resolve) => server?.close(resolve));
    const missingPort = await serve('text/plain', 'gone', 404);
    await expect(fetchPolicy(url(missingPort), AbortSignal.timeout(10_000))).rejects.toThrow(/HTTP 404/);
  });

  it('says ENOTFOUND for a name the resolver does not know', async () => {
    const fetchPolicy = createMtaStsFetcher({ resolver });
    await expect(
      fetchPolicy('https://mta-sts.other.test/.well-known/mta-sts.txt', AbortSignal.timeout(10_000)),
    ).rejects.toThrow(/ENOTFOUND/);
  });
});
