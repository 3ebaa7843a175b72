import { type AiosmtpdPeer, type DnsStub, startAiosmtpd, startDnsStub } from '@smtp/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { configSchema } from '../src/config/config-schema.js';
import { outboundSource } from '../src/delivery/source-addresses.js';
import { StartupError } from '../src/startup-error.js';
import { portFreeOn, relayMessage, startRelayMta } from './support/mta-testbed.js';
import { waitUntil } from './support/shared-queue.js';

/**
 * mta.outbound (Postfix's smtp_bind_address and inet_protocols) end to end: the MX host of
 * remote.test has an IPv4 address (aiosmtpd on 127.0.0.2) and an IPv6 one (aiosmtpd on ::1), on
 * one port; the peers record which address each message came from.
 */
describe('mta.outbound: where delivery connections come from', () => {
  const stops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  });

  async function remoteMx(): Promise<{ dns: DnsStub; ipv4: AiosmtpdPeer; ipv6: AiosmtpdPeer; port: number }> {
    const port = await portFreeOn(['127.0.0.2', '::1']);
    const [dns, ipv4, ipv6] = await Promise.all([
      startDnsStub({
        'remote.test': { mx: [{ preference: 10, exchange: 'mx.remote.test' }] },
        'mx.remote.test': { a: ['127.0.0.2'], aaaa: ['::1'] },
      }),
      startAiosmtpd({ host: '127.0.0.2', port }),
      startAiosmtpd({ host: '::1', port }),
    ]);
    stops.push(async () => {
      await Promise.all([dns.close(), ipv4.stop(), ipv6.stop()]);
    });
    return { dns, ipv4, ipv6, port };
  }

  async function relayOne(outbound: object, mx: Awaited<ReturnType<typeof remoteMx>>) {
    const node = await startRelayMta({ dnsServers: [mx.dns.address], deliveryPort: mx.port, outbound });
    stops.push(node.stop);
    await relayMessage(node.smtpPort, 'bob@remote.test', 'which address');
    await waitUntil(
      'the message is delivered',
      async () => mx.ipv4.messages.length + mx.ipv6.messages.length > 0,
      15_000,
    );
  }

  it('by default the MX host is reached over IPv6 first, from whatever address the system picks', async () => {
    const mx = await remoteMx();
    await relayOne({}, mx);
    expect(mx.ipv6.messages.map((message) => message.peer)).toEqual(['::1']);
    expect(mx.ipv4.messages).toEqual([]);
  }, 30_000);

  it('addressFamilies [ipv4] skips its IPv6 address; sourceAddress is where the connection comes from', async () => {
    const mx = await remoteMx();
    await relayOne({ addressFamilies: ['ipv4'], sourceAddress: '127.0.0.9' }, mx);
    expect(mx.ipv4.messages.map((message) => message.peer)).toEqual(['127.0.0.9']);
    expect(mx.ipv6.messages).toEqual([]);
  }, 30_000);

  it('refuses, at start, a source address this machine does not have, and addresses of the wrong family', async () => {
    const outbound = (value: object) =>
      configSchema.parse({ mode: 'mta', mta: { hostname: 'mta.test', outbound: value } }).mta.outbound;
    const absent = outboundSource(outbound({ sourceAddress: '192.0.2.1' }));
    await expect(absent).rejects.toBeInstanceOf(StartupError);
    await expect(absent).rejects.toThrow(
      'mta.outbound.sourceAddress 192.0.2.1 is not an address of this machine (EADDRNOTAVAIL): deliveries could not connect from it',
    );
    expect(await outboundSource(outbound({ sourceAddress6: '::1', addressFamilies: ['ipv6'] }))).toEqual({
      localAddresses: { ipv6: '::1' },
      addressFamilies: ['ipv6'],
    });
    expect(() => outbound({ sourceAddress: '::1' })).toThrow(/expected an IPv4 address/);
    expect(() => outbound({ addressFamilies: [] })).toThrow();
    expect(() => outbound({ addressFamilies: ['ipv4', 'ipv4'] })).toThrow(/each family once/);
  });
});
