import { createServer, type SmtpServer } from '@smtp/server';
import { type AiosmtpdPeer, createTestCertificates, startAiosmtpd } from '@smtp/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { type DeliverOptions, deliver, MtaStsCache, SmtpTlsError } from '../src/index.js';
import { fakeResolver } from './helpers.js';

// RFC 8461 against a real peer: aiosmtpd on loopback stands in for mx.example.test, a fake DNS names
// it, and the policy file comes from an injected fetcher (the real one only speaks to port 443).
const certificates = createTestCertificates({ hostname: 'mx.example.test', ca: true });
const message = 'From: a@sender.test\r\nSubject: mta-sts\r\n\r\nHello\r\n';
const enforcing = 'version: STSv1\nmode: enforce\nmx: mx.example.test\nmax_age: 86400\n';

let peer: AiosmtpdPeer | null = null;
let ours: SmtpServer | null = null;
afterEach(async () => {
  await peer?.stop();
  await ours?.close();
  peer = null;
  ours = null;
});

/** @smtp/server as mx.example.test: the peer here that offers REQUIRETLS (after STARTTLS). */
async function startRequireTlsPeer(received: { requireTls: boolean }[]): Promise<number> {
  ours = createServer({
    hostname: 'mx.example.test',
    tls: { key: certificates.keyPem, cert: certificates.certPem },
    onMailFrom(_from, parameters) {
      received.push({ requireTls: parameters.requireTls === true });
    },
  });
  return (await ours.listen({ port: 0, host: '127.0.0.1' })).port;
}

function deliverWithPolicy(policy: string, port: number, overrides: Partial<DeliverOptions> = {}) {
  const resolver = fakeResolver({
    mx: { 'example.test': [{ exchange: 'mx.example.test', priority: 10 }] },
    a: { 'mx.example.test': ['127.0.0.1'] },
    txt: { '_mta-sts.example.test': ['v=STSv1; id=20261123'] },
  });
  return deliver({
    from: 'a@sender.test',
    to: 'b@example.test',
    message,
    resolver,
    port,
    tls: { ca: certificates.caPem },
    mtaSts: { fetchPolicy: async () => policy, cache: new MtaStsCache() },
    ...overrides,
  });
}

describe('deliver() under MTA-STS (RFC 8461)', () => {
  it('delivers over STARTTLS with a certificate valid for the MX host the policy names', async () => {
    peer = await startAiosmtpd({ certificates });
    const report = await deliverWithPolicy(enforcing, peer.port);
    expect(report.delivered).toEqual(['b@example.test']);
    expect(report.recipients[0]).toMatchObject({ mtaSts: 'enforce', tls: true, host: 'mx.example.test' });
    const [received] = await peer.waitForMessages(1);
    expect(received?.tls).toBe(true);
  });

  it('defers, and sends nothing in clear, when the MX host offers no STARTTLS', async () => {
    peer = await startAiosmtpd();
    const report = await deliverWithPolicy(enforcing, peer.port);
    expect(report.deferred).toEqual(['b@example.test']);
    expect(report.recipients[0]?.error).toBeInstanceOf(SmtpTlsError);
    expect(report.recipients[0]?.error?.message).toMatch(/MTA-STS policy requires TLS.*mx\.example\.test/);
    expect(peer.messages).toHaveLength(0);
  });

  it('defers when the certificate does not verify, even with rejectUnauthorized: false', async () => {
    peer = await startAiosmtpd({ certificates });
    const report = await deliverWithPolicy(enforcing, peer.port, { tls: { rejectUnauthorized: false } });
    expect(report.deferred).toEqual(['b@example.test']);
    expect(report.recipients[0]?.error?.message).toMatch(/MTA-STS/);
    expect(peer.messages).toHaveLength(0);
  });

  it('defers without connecting when no MX host is one the policy allows', async () => {
    peer = await startAiosmtpd({ certificates });
    const report = await deliverWithPolicy(
      enforcing.replace('mx.example.test', '*.mail.example.test'),
      peer.port,
    );
    expect(report.deferred).toEqual(['b@example.test']);
    expect(report.recipients[0]?.error?.message).toMatch(/None of example\.test's MX hosts.*allowed/);
    expect(report.recipients[0]?.host).toBeNull();
  });

  it('delivers a message marked "TLS-Required: No" without TLS despite an enforced policy (RFC 8689 §4.2.2)', async () => {
    peer = await startAiosmtpd();
    const optional = `TLS-Required: No\r\n${message}`;
    const report = await deliverWithPolicy(enforcing, peer.port, { message: optional });
    expect(report.delivered).toEqual(['b@example.test']);
    expect(report.recipients[0]?.mtaSts).toBe('testing');
    const withRequireTls = await deliverWithPolicy(enforcing, peer.port, {
      message: optional,
      requireTls: true,
    });
    expect(withRequireTls.failed).toEqual(['b@example.test']); // REQUIRETLS overrides the header (§4.1)
    expect(peer.messages).toHaveLength(1);
  });

  it('reads "TLS-Required: No" in a message given as bytes from its header section only', async () => {
    peer = await startAiosmtpd();
    const body = `${'a body line long enough to matter\r\n'.repeat(3000)}TLS-Required: No\r\n`;
    const inHeader = new TextEncoder().encode(`TLS-Required: No\r\n${message}${body}`);
    const inBody = new TextEncoder().encode(`${message}\r\n${body}`);
    expect((await deliverWithPolicy(enforcing, peer.port, { message: inHeader })).delivered).toEqual([
      'b@example.test',
    ]);
    expect((await deliverWithPolicy(enforcing, peer.port, { message: inBody })).deferred).toEqual([
      'b@example.test',
    ]);
    expect(peer.messages).toHaveLength(1);
  });

  it('delivers as usual under a policy in testing mode, or with the check off', async () => {
    peer = await startAiosmtpd();
    const testing = await deliverWithPolicy(enforcing.replace('enforce', 'testing'), peer.port);
    expect(testing.delivered).toEqual(['b@example.test']);
    expect(testing.recipients[0]).toMatchObject({ mtaSts: 'testing', tls: false });
    const off = await deliverWithPolicy(enforcing, peer.port, { mtaSts: false });
    expect(off.delivered).toEqual(['b@example.test']);
    expect(off.recipients[0]?.mtaSts).toBeNull();
    expect((await peer.waitForMessages(2)).map((received) => received.tls)).toEqual([false, false]);
  });
});

describe('deliver() with REQUIRETLS (RFC 8689 §4.2.1)', () => {
  it('sends MAIL … REQUIRETLS to an MX host the policy lists, over verified TLS', async () => {
    const received: { requireTls: boolean }[] = [];
    const port = await startRequireTlsPeer(received);
    const report = await deliverWithPolicy(enforcing.replace('enforce', 'testing'), port, {
      requireTls: true,
    });
    expect(report.delivered).toEqual(['b@example.test']);
    expect(received).toEqual([{ requireTls: true }]);
  });

  it('returns the message (550 5.7.10) when no MTA-STS policy validates the MX host, without connecting', async () => {
    const received: { requireTls: boolean }[] = [];
    const port = await startRequireTlsPeer(received);
    const report = await deliverWithPolicy('not a policy', port, { requireTls: true });
    expect(report.failed).toEqual(['b@example.test']);
    expect(report.recipients[0]?.reply).toMatchObject({ code: 550, enhanced: '5.7.10' });
    expect(report.recipients[0]?.host).toBeNull();
    expect(received).toEqual([]);
  });

  it('returns the message when the server lacks REQUIRETLS (5.7.30) or its certificate does not verify (5.7.10)', async () => {
    peer = await startAiosmtpd({ certificates });
    const lacking = await deliverWithPolicy(enforcing, peer.port, { requireTls: true });
    expect(lacking.failed).toEqual(['b@example.test']);
    expect(lacking.recipients[0]?.reply).toMatchObject({ code: 550, enhanced: '5.7.30' });
    const untrusted = await deliverWithPolicy(enforcing, peer.port, { requireTls: true, tls: {} });
    expect(untrusted.failed).toEqual(['b@example.test']);
    expect(untrusted.recipients[0]?.reply).toMatchObject({ code: 550, enhanced: '5.7.10' });
    expect(peer.messages).toHaveLength(0);
  });
});
