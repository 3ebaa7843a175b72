import { createHmac } from 'node:crypto';
import { createClient } from '@smtp/client';
import { afterEach, describe, expect, it } from 'vitest';
import { configSchema } from '../src/config/config-schema.js';
import type { WebhookConfig } from '../src/config/webhooks-schema.js';
import { WebhookDispatcher } from '../src/webhooks/webhook-dispatcher.js';
import { startTestApp } from './support/app-harness.js';
import { logCapture } from './support/log-capture.js';
import { startMtaTestbed } from './support/mta-testbed.js';
import { type ReceivedRequest, receivedEvent, startReceiver } from './support/webhook-receiver.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function sendMail(
  port: number,
  subject: string,
  to = ['tester@example.org'],
  from = 'app@sender.test',
) {
  const client = createClient({ host: '127.0.0.1', port, starttls: 'never', pool: false });
  try {
    return await client.send({
      from,
      to,
      message: `Subject: ${subject}\r\n\r\nbody\r\n`,
      dsn: { notify: 'NEVER' },
    });
  } finally {
    await client.close();
  }
}

describe('webhooks', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('posts `received` in capture mode, signed, and retries a receiver that fails twice until it answers 200', async () => {
    const receiver = await startReceiver((number, response) =>
      response.writeHead(number <= 2 ? 500 : 200).end(number <= 2 ? 'down' : 'ok'),
    );
    cleanups.push(receiver.close);
    const harness = await startTestApp({
      webhooks: [{ url: receiver.url, events: ['received'], secret: 'webhook-secret', retryDelay: '50ms' }],
    });
    cleanups.push(harness.stop);

    await sendMail(harness.smtpPort, 'Hook me');
    const requests = await receiver.waitFor(3);
    await sleep(400); // a fourth try would come after 200 ms
    expect(requests).toHaveLength(3);
    // One event, tried three times: the same id and body each time.
    expect(new Set(requests.map((request) => request.headers['x-smtp-delivery'])).size).toBe(1);
    expect(new Set(requests.map((request) => request.json.id)).size).toBe(1);
    const last = requests[2] as ReceivedRequest;
    expect(last.headers['content-type']).toBe('application/json');
    expect(last.headers['x-smtp-event']).toBe('received');
    expect(last.json).toMatchObject({
      type: 'received',
      data: {
        type: 'received',
        subject: 'Hook me',
        sender: 'app@sender.test',
        recipients: ['tester@example.org'],
      },
    });
    // The receiver's check: HMAC-SHA256 over "<timestamp>.<body>" with the shared secret.
    const timestamp = String(last.headers['x-smtp-timestamp']);
    const expected = createHmac('sha256', 'webhook-secret').update(`${timestamp}.${last.body}`).digest('hex');
    expect(last.headers['x-smtp-signature']).toBe(`sha256=${expected}`);
    expect(Math.abs(Number(timestamp) - Date.now() / 1000)).toBeLessThan(60);
  });

  it('gives a request that runs over its timeout up and tries again; a 4xx refusal is not retried and is logged', async () => {
    const slow = await startReceiver((number, response) => {
      if (number === 1) return; // never answers: the timeout must end it
      response.writeHead(204).end();
    });
    cleanups.push(slow.close);
    const gone = await startReceiver((_number, response) => response.writeHead(410).end());
    const goneWithToken = `${gone.url}?token=receiver-secret`;
    cleanups.push(gone.close);
    const { logger, lines } = logCapture();
    const harness = await startTestApp(
      {
        webhooks: [
          { url: slow.url, events: ['received'], timeout: '300ms', retryDelay: '10ms' },
          { url: goneWithToken, events: ['received'], retryDelay: '10ms' },
        ],
      },
      { logger },
    );
    cleanups.push(harness.stop);
    await sendMail(harness.smtpPort, 'Slow');
    await slow.waitFor(2);
    expect(slow.closedUnanswered).toContain(1);
    await gone.waitFor(1);
    await sleep(300);
    expect(gone.requests).toHaveLength(1);
    // The log names the receiver without its query, where tokens often are.
    expect(JSON.stringify(lines)).not.toContain('receiver-secret');
    expect(lines).toContainEqual(
      expect.objectContaining({
        msg: 'webhook not delivered: event dropped',
        url: gone.url,
        problem: 'HTTP 410',
        attempts: 1,
      }),
    );
  });

  it('never holds up mail: SMTP answers while every webhook request hangs, and stop() ends them', async () => {
    const hanging = await startReceiver(() => undefined);
    cleanups.push(hanging.close);
    const harness = await startTestApp({
      webhooks: [{ url: hanging.url, events: ['received'], timeout: '1m' }],
    });
    let stopped = false;
    cleanups.push(async () => {
      if (!stopped) await harness.stop();
    });
    for (let index = 0; index < 3; index++) await sendMail(harness.smtpPort, `Unblocked ${index}`);
    await hanging.waitFor(3);
    expect(hanging.requests.map((request) => request.json.data.subject).sort()).toEqual([
      'Unblocked 0',
      'Unblocked 1',
      'Unblocked 2',
    ]);
    await harness.stop();
    stopped = true;
    await sleep(100);
    expect(hanging.closedUnanswered.sort()).toEqual([1, 2, 3]);
  });

  it('keeps at most maxPending events in memory: more are logged and dropped', async () => {
    const hanging = await startReceiver(() => undefined);
    cleanups.push(hanging.close);
    const { logger, lines } = logCapture();
    const webhook: WebhookConfig = {
      url: hanging.url,
      events: ['received'],
      timeout: 60_000,
      attempts: 5,
      retryDelay: 1000,
    };
    const dispatcher = new WebhookDispatcher({ webhooks: [webhook], logger, maxPending: 2 });
    cleanups.push(() => dispatcher.close());
    for (const subject of ['a', 'b', 'c']) dispatcher.publish(receivedEvent(subject));
    expect(dispatcher.pendingCount).toBe(2);
    await hanging.waitFor(2);
    expect(hanging.requests.map((request) => request.json.data.subject)).toEqual(['a', 'b']);
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'webhook backlog full: event dropped' }));
  });

  it('refuses a webhook config that cannot work, naming the key', () => {
    const issues = (webhooks: unknown) => {
      const result = configSchema.safeParse({ webhooks });
      return result.success
        ? []
        : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    };
    expect(issues([{ url: 'ftp://hooks.example/x' }])).toEqual([
      'webhooks.0.url: expected an http:// or https:// URL',
    ]);
    expect(issues([{ url: 'https://hooks.example/x', events: ['exploded'] }])[0]).toMatch(
      /^webhooks\.0\.events\.0: /,
    );
    expect(issues([{ url: 'https://hooks.example/x', timeout: 'soon' }])[0]).toMatch(
      /^webhooks\.0\.timeout: expected a duration/,
    );
    expect(issues([{ url: 'https://hooks.example/x' }])).toEqual([]);
    expect(configSchema.parse({ webhooks: [{ url: 'https://hooks.example/x' }] }).webhooks[0]).toEqual({
      url: 'https://hooks.example/x',
      events: ['delivered', 'deferred', 'failed', 'received'],
      timeout: 10_000,
      attempts: 5,
      retryDelay: 2000,
    });
  });

  it('posts delivered and deferred in MTA mode, and only the events asked for', async () => {
    const receiver = await startReceiver((_number, response) => response.writeHead(200).end());
    cleanups.push(receiver.close);
    const testbed = await startMtaTestbed(
      {},
      { config: { webhooks: [{ url: receiver.url, events: ['delivered', 'deferred'] }] } },
    );
    cleanups.push(testbed.stop);
    await sendMail(testbed.harness.smtpPort, 'Outbound', ['ok@remote.test', 'temp-later@remote.test']);
    const requests = await receiver.waitFor(2);
    await sleep(300);
    expect(requests).toHaveLength(2);
    const byType = Object.fromEntries(requests.map((request) => [request.json.type, request.json.data]));
    expect(byType.delivered).toMatchObject({
      recipient: 'ok@remote.test',
      attempt: { mxHost: 'mx.remote.test' },
    });
    expect(byType.deferred).toMatchObject({
      recipient: 'temp-later@remote.test',
      attempt: { reply: '450 4.2.0 Mailbox busy, try later' },
    });
  });
});
