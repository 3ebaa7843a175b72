import { createClient } from '@smtp/client';
import { requireTool } from '@smtp/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp } from './support/app-harness.js';
import { composeRaw } from './support/messages.js';
import { startAiosmtpdSink } from './support/smtp-sink.js';

/** The configured relay (config relay) behind release and POST /api/v1/send, with aiosmtpd as the real server. */
describe('relay: releasing captured mail and sending through the configured relay', () => {
  let sink: Awaited<ReturnType<typeof startAiosmtpdSink>>;
  let harness: Awaited<ReturnType<typeof startTestApp>>;

  beforeAll(async () => {
    requireTool('/usr/bin/python3', 'apt-get install -y python3-aiosmtpd');
    sink = await startAiosmtpdSink();
    harness = await startTestApp({
      relay: {
        host: '127.0.0.1',
        port: sink.port,
        security: 'none',
        allowedRecipients: ['@allowed.example', 'qa@other.example'],
      },
    });
  }, 60_000);
  afterAll(async () => {
    await harness?.stop();
    sink?.stop();
  });

  const postJson = async (path: string, body: unknown) => {
    const response = await fetch(harness.baseUrl + path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    // biome-ignore lint/suspicious/noExplicitAny: assertions read JSON bodies field by field
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };
  /** The sink's message number `count` (1-based), waiting briefly for its line to be read. */
  const sinkMessage = async (count: number) => {
    const deadline = Date.now() + 10_000;
    while (sink.received.length < count && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    const message = sink.received[count - 1];
    if (message === undefined) throw new Error('the sink received nothing');
    return message;
  };
  const messageCount = async () =>
    ((await (await fetch(`${harness.baseUrl}/api/v1/messages`)).json()) as { count: number }).count;

  it('releases a captured message unchanged to the relay when no host is given', async () => {
    const raw = composeRaw({ subject: 'release me', to: 'dev@allowed.example' });
    const client = createClient({
      host: '127.0.0.1',
      port: harness.smtpPort,
      starttls: 'never',
      pool: false,
    });
    const sent = await client.send({ from: 'app@example.com', to: ['dev@allowed.example'], message: raw });
    await client.close();
    const before = sink.received.length;
    const released = await postJson(`/api/v1/messages/${sent.queueId}/release`, {});
    expect(released.status).toBe(200);
    expect(released.body.accepted).toEqual(['dev@allowed.example']);
    const relayed = await sinkMessage(before + 1);
    expect(relayed.from).toBe('app@example.com');
    expect(relayed.to).toEqual(['dev@allowed.example']);
    expect(relayed.data.toString('utf8').replace(/\r\n/g, '\n')).toBe(raw.replace(/\r\n/g, '\n'));

    const refused = await postJson(`/api/v1/messages/${sent.queueId}/release`, {
      to: ['boss@elsewhere.example'],
    });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toContain('boss@elsewhere.example');
    expect(sink.received.length).toBe(before + 1);
  });

  it('POST /api/v1/send with relay: true stores and relays; a refused recipient does neither', async () => {
    const before = sink.received.length;
    const storedBefore = await messageCount();
    const sent = await postJson('/api/v1/send', {
      from: 'app@example.com',
      to: ['qa@other.example'],
      subject: 'sent through the relay',
      text: 'hello',
      relay: true,
    });
    expect(sent.status).toBe(200);
    expect(sent.body.relay.accepted).toEqual(['qa@other.example']);
    const relayed = await sinkMessage(before + 1);
    expect(relayed.to).toEqual(['qa@other.example']);
    expect(relayed.data.toString('utf8')).toContain('Subject: sent through the relay');
    expect(await messageCount()).toBe(storedBefore + 1);

    const refused = await postJson('/api/v1/send', {
      from: 'app@example.com',
      to: ['qa@other.example', 'ceo@bank.example'],
      subject: 'no',
      text: 'no',
      relay: true,
    });
    expect(refused.status).toBe(403);
    expect(await messageCount()).toBe(storedBefore + 1);
    expect(sink.received.length).toBe(before + 1);
  });
});
