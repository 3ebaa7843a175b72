import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type AiosmtpdPeer,
  createTestCertificates,
  type DnsStub,
  startAiosmtpd,
  startDnsStub,
} from '@smtp/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queuedMessageSchema } from '../src/http/schemas/queue-schemas.js';
import { temporaryDirectory } from './support/messages.js';
import { portFreeOn, relayMessage, startRelayMta } from './support/mta-testbed.js';
import { waitUntil } from './support/shared-queue.js';

/**
 * mta.tlsPolicy end to end (Postfix's smtp_tls_policy_maps): plain.test's MX is aiosmtpd without
 * TLS on 127.0.0.2; tls.test's (and a.tls.test's) is aiosmtpd on 127.0.0.3 offering STARTTLS with a
 * certificate for mx.tls.test from a throwaway CA. The peers record whether each message came over TLS.
 */
describe('mta.tlsPolicy: STARTTLS per destination domain', () => {
  let dns: DnsStub;
  let plain: AiosmtpdPeer;
  let secured: AiosmtpdPeer;
  let port: number;
  const certificates = createTestCertificates({ hostname: 'mx.tls.test', ca: true });
  const directory = temporaryDirectory();
  const stops: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    port = await portFreeOn(['127.0.0.2', '127.0.0.3']);
    [dns, plain, secured] = await Promise.all([
      startDnsStub({
        'plain.test': { mx: [{ preference: 10, exchange: 'mx.plain.test' }] },
        'mx.plain.test': { a: ['127.0.0.2'] },
        'tls.test': { mx: [{ preference: 10, exchange: 'mx.tls.test' }] },
        'a.tls.test': { mx: [{ preference: 10, exchange: 'mx.tls.test' }] },
        'mx.tls.test': { a: ['127.0.0.3'] },
      }),
      startAiosmtpd({ host: '127.0.0.2', port }),
      startAiosmtpd({ host: '127.0.0.3', port, certificates }),
    ]);
  }, 30_000);
  afterAll(async () => {
    for (const stop of stops.reverse()) await stop();
    await Promise.all([dns?.close(), plain?.stop(), secured?.stop()]);
    directory.remove();
  });

  async function startMta(mta: Parameters<typeof startRelayMta>[0]) {
    const node = await startRelayMta({ dnsServers: [dns.address], deliveryPort: port, ...mta });
    stops.push(node.stop);
    return node;
  }

  const relay = (node: Awaited<ReturnType<typeof startMta>>, to: string, subject: string) =>
    relayMessage(node.smtpPort, to, subject);

  /** The message's one delivery once it has an attempt on record. */
  async function firstAttempt(node: Awaited<ReturnType<typeof startMta>>, id: string) {
    let shown = queuedMessageSchema.parse({ messageId: id, deliveries: [], attempts: [] });
    await waitUntil(
      `an attempt for ${id}`,
      async () => {
        shown = queuedMessageSchema.parse(
          await (await fetch(`${node.baseUrl}/api/v1/queue/messages/${id}`)).json(),
        );
        return shown.attempts.length > 0;
      },
      15_000,
    );
    return { delivery: shown.deliveries[0], attempt: shown.attempts[0] };
  }

  it('encrypt defers rather than send in clear; verify defers on an untrusted certificate; none sends in clear although TLS is offered', async () => {
    const node = await startMta({
      tlsPolicy: { 'plain.test': 'encrypt', 'tls.test': 'verify', '.tls.test': 'none' },
    });

    const toPlain = await firstAttempt(node, await relay(node, 'bob@plain.test', 'must be encrypted'));
    expect(toPlain.delivery?.status).toBe('queued');
    expect(toPlain.attempt).toMatchObject({ outcome: 'deferred', mxHost: 'mx.plain.test' });
    expect(`${toPlain.attempt?.error} ${toPlain.attempt?.reply}`).toMatch(/STARTTLS/i);
    expect(plain.messages).toEqual([]);

    const untrusted = await firstAttempt(node, await relay(node, 'bob@tls.test', 'must be verified'));
    expect(untrusted.delivery?.status).toBe('queued');
    expect(untrusted.attempt?.outcome).toBe('deferred');
    expect(`${untrusted.attempt?.error}`).toMatch(/certificate/i);

    const clear = await firstAttempt(node, await relay(node, 'carol@a.tls.test', 'in clear'));
    expect(clear.delivery?.status).toBe('delivered');
    expect(clear.attempt?.tls).toBe(false);
    // Nothing reached the TLS peer but the message sent in clear.
    expect(secured.messages.map((message) => [message.to, message.tls])).toEqual([
      [['carol@a.tls.test'], false],
    ]);
  }, 60_000);

  it('verify delivers once mta.outbound.caFile trusts the issuer; may (the default) takes TLS when offered', async () => {
    const caFile = join(directory.path, 'ca.pem');
    writeFileSync(caFile, certificates.caPem);
    const node = await startMta({ tlsPolicy: { 'tls.test': 'verify' }, outbound: { caFile } });
    const verified = await firstAttempt(node, await relay(node, 'dave@tls.test', 'verified'));
    expect(verified.delivery?.status).toBe('delivered');
    expect(verified.attempt?.tls).toBe(true);
    const opportunistic = await firstAttempt(node, await relay(node, 'erin@a.tls.test', 'opportunistic'));
    expect(opportunistic.attempt?.tls).toBe(true);
    expect(secured.messages.slice(-2).map((message) => [message.to, message.tls])).toEqual([
      [['dave@tls.test'], true],
      [['erin@a.tls.test'], true],
    ]);
  }, 60_000);
});
