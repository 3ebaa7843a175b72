import { createClient } from '@smtp/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueEventSchema } from '../src/http/schemas/queue-event-schema.js';
import { queuedMessageSchema } from '../src/http/schemas/queue-schemas.js';
import { serverInfoSchema } from '../src/http/schemas/server-info-schema.js';
import { suppressionSchema } from '../src/http/schemas/suppression-schemas.js';
import { startTestApp } from './support/app-harness.js';
import { type MtaTestbed, startMtaTestbed } from './support/mta-testbed.js';
import { openSseStream, type ReceivedSseEvent } from './support/sse-reader.js';

const json = (body: unknown): RequestInit => ({
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify(body),
});

/** An event's data must be exactly the wire contract's shape: parse() drops what the schema does not name. */
function conforming(event: ReceivedSseEvent) {
  const parsed = queueEventSchema.parse(event.data);
  expect(parsed).toEqual(event.data);
  expect(parsed.type).toBe(event.event);
  return parsed;
}

// The app in MTA mode delivering to aiosmtpd, which answers 450 4.2.0 to temp-* recipients: the
// operator's view of it over real sockets (SSE, the REST API, SMTP).
describe('MTA operations: delivery events, server info, operator suppressions', () => {
  let testbed: MtaTestbed | undefined;
  let baseUrl = '';
  let smtpPort = 0;

  beforeAll(async () => {
    testbed = await startMtaTestbed();
    baseUrl = testbed.harness.baseUrl;
    smtpPort = testbed.harness.smtpPort;
  }, 30_000);
  afterAll(async () => {
    await testbed?.stop();
  });

  async function send(to: readonly string[]) {
    const client = createClient({ host: '127.0.0.1', port: smtpPort, starttls: 'never', pool: false });
    try {
      // NOTIFY=NEVER: no report to a sender domain the DNS stub does not know.
      return await client.send({
        from: 'app@sender.test',
        to: [...to],
        message: 'Subject: operations\r\n\r\nx\r\n',
        dsn: { notify: 'NEVER' },
      });
    } finally {
      await client.close();
    }
  }

  it('streams queued, attempt-started, delivered and deferred, then each operator action and the purge', async () => {
    const stream = await openSseStream(`${baseUrl}/api/v1/queue/events`);
    try {
      expect(stream.status).toBe(200);
      expect(stream.contentType).toContain('text/event-stream');
      await stream.next((event) => event.event === 'ready');
      await send(['ok@remote.test', 'temp-busy@remote.test']);

      const queued = conforming(await stream.next((event) => event.event === 'queued'));
      expect(queued).toMatchObject({
        sender: 'app@sender.test',
        recipients: ['ok@remote.test', 'temp-busy@remote.test'],
      });
      const messageId = queued.type === 'queued' ? queued.messageId : '';
      const started = conforming(await stream.next((event) => event.event === 'attempt-started'));
      // One destination: both recipients in one session.
      expect(started).toMatchObject({ messageId, domain: 'remote.test' });
      expect(
        started.type === 'attempt-started' && started.deliveries.map((delivery) => delivery.recipient).sort(),
      ).toEqual(['ok@remote.test', 'temp-busy@remote.test']);
      const delivered = conforming(await stream.next((event) => event.event === 'delivered'));
      expect(delivered).toMatchObject({
        messageId,
        recipient: 'ok@remote.test',
        status: 'delivered',
        attempt: { mxHost: 'mx.remote.test', status: '2.0.0' },
      });
      const deferred = conforming(await stream.next((event) => event.event === 'deferred'));
      expect(deferred).toMatchObject({
        messageId,
        recipient: 'temp-busy@remote.test',
        status: 'queued',
        attempt: { mxHost: 'mx.remote.test', reply: '450 4.2.0 Mailbox busy, try later', status: '4.2.0' },
      });
      const deliveryId = deferred.type === 'deferred' ? deferred.deliveryId : -1;

      // What each delivery admits now is on the wire, from the state machine.
      const shown = queuedMessageSchema.parse(
        await (await fetch(`${baseUrl}/api/v1/queue/messages/${messageId}`)).json(),
      );
      expect(
        Object.fromEntries(shown.deliveries.map((delivery) => [delivery.recipient, delivery.actions])),
      ).toEqual({
        'ok@remote.test': ['delete'],
        'temp-busy@remote.test': ['retry-now', 'hold', 'bounce', 'delete'],
      });

      const act = (action: string) =>
        fetch(`${baseUrl}/api/v1/queue/deliveries/${deliveryId}/${action}`, json({}));
      expect((await act('hold')).status).toBe(200);
      expect(conforming(await stream.next((event) => event.event === 'held'))).toMatchObject({
        deliveryId,
        messageId,
        recipient: 'temp-busy@remote.test',
        status: 'held',
      });
      expect((await act('release')).status).toBe(200);
      expect(conforming(await stream.next((event) => event.event === 'released'))).toMatchObject({
        deliveryId,
        status: 'queued',
      });
      // Released is due now: the scheduler tries it again and aiosmtpd defers it again.
      await stream.next((event) => event.event === 'attempt-started');
      expect(conforming(await stream.next((event) => event.event === 'deferred'))).toMatchObject({
        deliveryId,
      });
      expect((await act('retry-now')).status).toBe(200);
      expect(conforming(await stream.next((event) => event.event === 'retried'))).toMatchObject({
        deliveryId,
      });
      await stream.next((event) => event.event === 'deferred');
      expect((await act('bounce')).status).toBe(200);
      expect(conforming(await stream.next((event) => event.event === 'bounced'))).toMatchObject({
        deliveryId,
        status: 'failed',
      });
      // The whole message: only the delivered and the bounced delivery are left, both deletable.
      expect((await fetch(`${baseUrl}/api/v1/queue/messages/${messageId}/delete`, json({}))).status).toBe(
        200,
      );
      const deleted = [
        conforming(await stream.next((event) => event.event === 'deleted')),
        conforming(await stream.next((event) => event.event === 'deleted')),
      ];
      expect(deleted.map((event) => (event.type === 'deleted' ? event.recipient : '')).sort()).toEqual([
        'ok@remote.test',
        'temp-busy@remote.test',
      ]);
      // A refused action changes nothing and publishes nothing.
      expect((await act('hold')).status).toBe(409);
      // Every delivery is final now: an operator's purge removes it, and says so on the stream.
      expect(await (await fetch(`${baseUrl}/api/v1/queue/purge`, json({}))).json()).toEqual({ purged: 1 });
      expect(conforming(await stream.next((event) => event.event === 'purged'))).toMatchObject({
        messageIds: [messageId],
        by: 'operator',
      });
    } finally {
      stream.close();
    }
  });

  it('tells the UI the mode, and lists the events stream in the OpenAPI document', async () => {
    expect(serverInfoSchema.parse(await (await fetch(`${baseUrl}/api/v1/info`)).json())).toEqual({
      mode: 'mta',
      inbound: false,
    });
    const openapi = (await (await fetch(`${baseUrl}/api/v1/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
      components: { schemas: Record<string, unknown> };
    };
    expect(Object.keys(openapi.paths['/api/v1/queue/events'] ?? {})).toEqual(['get']);
    expect(Object.keys(openapi.paths['/api/v1/info'] ?? {})).toEqual(['get']);
    expect(Object.keys(openapi.paths['/api/v1/suppressions'] ?? {}).sort()).toEqual(['get', 'post']);
    expect(openapi.components.schemas).toHaveProperty('QueueEvent');
    expect(openapi.components.schemas).toHaveProperty('SuppressionAddRequest');
  });

  it("adds an operator's suppression that RCPT then refuses, keeps an existing one, refuses a bad address", async () => {
    const added = await fetch(
      `${baseUrl}/api/v1/suppressions`,
      json({ address: 'Ops@Remote.TEST', reason: 'asked us to stop' }),
    );
    expect(added.status).toBe(201);
    const entry = suppressionSchema.parse(await added.json());
    expect(entry).toMatchObject({
      address: 'Ops@remote.test',
      reason: 'asked us to stop',
      messageId: null,
      deliveryId: null,
    });
    const again = await fetch(`${baseUrl}/api/v1/suppressions`, json({ address: 'Ops@remote.test' }));
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ reason: 'asked us to stop' });
    const bad = await fetch(`${baseUrl}/api/v1/suppressions`, json({ address: 'not an address' }));
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toContain('user@example.com');
    const form = await fetch(`${baseUrl}/api/v1/suppressions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'address=x@remote.test',
    });
    expect(form.status).toBe(415);

    await expect(send(['Ops@remote.test'])).rejects.toThrow(/550.*5\.1\.1/);
    expect(
      (
        await fetch(`${baseUrl}/api/v1/suppressions/${encodeURIComponent('Ops@remote.test')}`, {
          method: 'DELETE',
        })
      ).status,
    ).toBe(200);
    await expect(send(['Ops@remote.test'])).resolves.toBeDefined();
  });
});

describe('capture mode operations', () => {
  it('tells the UI it is capture mode and serves no queue events', async () => {
    const harness = await startTestApp();
    try {
      expect(await (await fetch(`${harness.baseUrl}/api/v1/info`)).json()).toEqual({
        mode: 'capture',
        inbound: false,
      });
      expect((await fetch(`${harness.baseUrl}/api/v1/queue/events`)).status).toBe(404);
    } finally {
      await harness.stop();
    }
  });
});
