import { type AiosmtpdPeer, type DnsStub, startAiosmtpd, startDnsStub } from '@smtp/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { portFreeOn, relayMessage, startRelayMta } from './support/mta-testbed.js';
import { waitUntil } from './support/shared-queue.js';

/**
 * mta.destinations end to end: three destination domains, each with its own aiosmtpd MX (127.0.0.2,
 * .3, .4 on one port) that holds each DATA 150 ms so deliveries overlap. limited.test gets one
 * delivery at a time, free.test the default window, slow.test four starts a second.
 */
describe('mta.destinations: per-domain concurrency and rate', () => {
  let dns: DnsStub;
  let limited: AiosmtpdPeer;
  let free: AiosmtpdPeer;
  let slow: AiosmtpdPeer;
  let node: Awaited<ReturnType<typeof startRelayMta>>;

  beforeAll(async () => {
    const port = await portFreeOn(['127.0.0.2', '127.0.0.3', '127.0.0.4']);
    [dns, limited, free, slow] = await Promise.all([
      startDnsStub({
        'limited.test': { mx: [{ preference: 10, exchange: 'mx.limited.test' }] },
        'mx.limited.test': { a: ['127.0.0.2'] },
        'free.test': { mx: [{ preference: 10, exchange: 'mx.free.test' }] },
        'mx.free.test': { a: ['127.0.0.3'] },
        'slow.test': { mx: [{ preference: 10, exchange: 'mx.slow.test' }] },
        'mx.slow.test': { a: ['127.0.0.4'] },
      }),
      startAiosmtpd({ host: '127.0.0.2', port, dataDelayMs: 150 }),
      startAiosmtpd({ host: '127.0.0.3', port, dataDelayMs: 150 }),
      startAiosmtpd({ host: '127.0.0.4', port, dataDelayMs: 150 }),
    ]);
    node = await startRelayMta({
      dnsServers: [dns.address],
      deliveryPort: port,
      destinations: { 'limited.test': { maxConcurrency: 1 }, 'slow.test': { rate: '4/s' } },
    });
  }, 30_000);
  afterAll(async () => {
    await node?.stop();
    await Promise.all([dns?.close(), limited?.stop(), free?.stop(), slow?.stop()]);
  });

  const arrived = (peer: AiosmtpdPeer, count: number) =>
    waitUntil(`${count} messages at the MX`, async () => peer.messages.length >= count, 20_000);

  it('maxConcurrency 1 keeps one delivery at a time where the default window opens several', async () => {
    await Promise.all(
      Array.from({ length: 6 }, (_, index) => [
        relayMessage(node.smtpPort, `user${index}@limited.test`, `limited ${index}`),
        relayMessage(node.smtpPort, `user${index}@free.test`, `free ${index}`),
      ]).flat(),
    );
    await Promise.all([arrived(limited, 6), arrived(free, 6)]);
    expect(limited.sessions.peak).toBe(1);
    expect(free.sessions.peak).toBeGreaterThanOrEqual(2);
  }, 60_000);

  it('a rate of 4/s spaces the starts, also for messages that come one at a time', async () => {
    await Promise.all(
      Array.from({ length: 4 }, (_, index) =>
        relayMessage(node.smtpPort, `b${index}@slow.test`, `burst ${index}`),
      ),
    );
    await arrived(slow, 4);
    // One more after a short pause: the bucket the burst emptied is not forgotten in between.
    await relayMessage(node.smtpPort, 'late@slow.test', 'late');
    await arrived(slow, 5);
    const times = slow.messages.map((message) => message.arrived_at_ms).sort((a, b) => a - b);
    const gaps = times.slice(1).map((time, index) => time - (times[index] ?? time));
    // 250 ms apart, less timer and clock slack.
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(200);
  }, 60_000);
});
