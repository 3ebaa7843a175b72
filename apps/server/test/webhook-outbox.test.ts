import { join } from 'node:path';
import { createClient } from '@smtp/client';
import { afterEach, describe, expect, it } from 'vitest';
import { type RunningApp, startApp } from '../src/app.js';
import { configSchema } from '../src/config/config-schema.js';
import type { WebhookConfig } from '../src/config/webhooks-schema.js';
import { parseMessage } from '../src/mime/parse-message.js';
import { createLogger } from '../src/observability/logger.js';
import { SqliteStorage } from '../src/sqlite/sqlite-storage.js';
import { WebhookDispatcher } from '../src/webhooks/webhook-dispatcher.js';
import { logCapture } from './support/log-capture.js';
import { temporaryDirectory } from './support/messages.js';
import { receivedEvent, startFailingReceiver, startReceiver } from './support/webhook-receiver.js';

/** Polls until `condition` holds (the dispatcher works in the background), or fails after 10 s. */
async function eventually(condition: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in 10 s');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// The webhook outbox: an event not yet taken by its receiver survives a stop (and a crash of the
// process), and the next run posts it again under the same X-Smtp-Delivery id.
describe('webhook outbox', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  function openStorage(path: string): SqliteStorage {
    return new SqliteStorage({ parse: parseMessage, path });
  }

  it('keeps an event whose retry was waiting at stop; the next run posts it with the same id', async () => {
    const receiver = await startFailingReceiver();
    cleanups.push(receiver.close);
    const directory = temporaryDirectory();
    cleanups.push(() => directory.remove());
    const path = join(directory.path, 'messages.sqlite');
    const { logger, lines } = logCapture();
    const webhook: WebhookConfig = {
      url: receiver.url,
      events: ['received'],
      timeout: 5000,
      attempts: 5,
      retryDelay: 60_000,
    };

    const firstStorage = openStorage(path);
    const first = new WebhookDispatcher({ webhooks: [webhook], logger, outbox: firstStorage.webhookOutbox });
    first.publish(receivedEvent('kept'));
    await receiver.waitFor(1);
    // The 503 is in: the next try would come in a minute.
    await eventually(async () => (await firstStorage.webhookOutbox.pending(10))[0]?.tries === 1);
    await first.close();
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'webhook events kept for the next start' }));
    expect((await firstStorage.webhookOutbox.pending(10)).map((entry) => entry.tries)).toEqual([1]);
    await firstStorage.close();

    receiver.state.isFailing = false;
    const secondStorage = openStorage(path);
    cleanups.push(() => secondStorage.close());
    const second = new WebhookDispatcher({
      webhooks: [{ ...webhook, retryDelay: 50 }],
      logger,
      outbox: secondStorage.webhookOutbox,
    });
    cleanups.push(() => second.close());
    expect(await second.resume()).toBe(1);
    const requests = await receiver.waitFor(2);
    expect(requests[1]?.headers['x-smtp-delivery']).toBe(requests[0]?.headers['x-smtp-delivery']);
    expect(requests[1]?.json.data.subject).toBe('kept');
    await eventually(() => second.pendingCount === 0);
    await second.close();
    expect(await secondStorage.webhookOutbox.pending(10)).toEqual([]);
    expect(receiver.requests).toHaveLength(2);
  });

  it('forgets an event once taken or given up, and one whose URL is no longer configured', async () => {
    const taking = await startReceiver((_number, response) => response.end());
    const refusing = await startReceiver((_number, response) => {
      response.statusCode = 400;
      response.end();
    });
    cleanups.push(taking.close, refusing.close);
    const directory = temporaryDirectory();
    cleanups.push(() => directory.remove());
    const storage = openStorage(join(directory.path, 'messages.sqlite'));
    cleanups.push(() => storage.close());
    const { logger, lines } = logCapture();
    const config = (url: string): WebhookConfig => ({
      url,
      events: ['received'],
      timeout: 5000,
      attempts: 3,
      retryDelay: 60_000,
    });
    const dispatcher = new WebhookDispatcher({
      webhooks: [config(taking.url), config(refusing.url)],
      logger,
      outbox: storage.webhookOutbox,
    });
    dispatcher.publish(receivedEvent('once'));
    await Promise.all([taking.waitFor(1), refusing.waitFor(1)]);
    await eventually(() => dispatcher.pendingCount === 0);
    await dispatcher.close();
    expect(await storage.webhookOutbox.pending(10)).toEqual([]);

    // An event left for a URL the next run no longer has is logged and removed, not posted.
    await storage.webhookOutbox.add([
      {
        key: 'gone:http://127.0.0.1:9/hook',
        url: 'http://127.0.0.1:9/hook',
        body: { id: 'gone', type: 'received', createdAt: 0, data: receivedEvent('gone') },
        tries: 0,
      },
    ]);
    const next = new WebhookDispatcher({
      webhooks: [config(taking.url)],
      logger,
      outbox: storage.webhookOutbox,
    });
    cleanups.push(() => next.close());
    // An entry of this run's own (its removal not committed yet when resume() reads) is not resent.
    await storage.webhookOutbox.add([
      {
        key: `own:${taking.url}`,
        url: taking.url,
        body: { id: 'own', type: 'received', createdAt: Date.now(), data: receivedEvent('own') },
        tries: 0,
      },
    ]);
    expect(await next.resume()).toBe(0);
    await storage.webhookOutbox.remove(`own:${taking.url}`);
    await next.close();
    expect(lines).toContainEqual(
      expect.objectContaining({
        msg: 'webhook not delivered: its URL is no longer configured, event dropped',
      }),
    );
    expect(await storage.webhookOutbox.pending(10)).toEqual([]);
    expect(taking.requests).toHaveLength(1);
  });

  it('the app posts, after a restart, a received event its receiver had not taken', async () => {
    const receiver = await startFailingReceiver();
    cleanups.push(receiver.close);
    const directory = temporaryDirectory();
    cleanups.push(() => directory.remove());
    const start = async (retryDelay: string): Promise<RunningApp> =>
      startApp({
        config: configSchema.parse({
          smtp: { port: 0 },
          http: { port: 0 },
          storage: { dataDir: directory.path },
          log: { level: 'silent' },
          webhooks: [{ url: receiver.url, events: ['received'], retryDelay, attempts: 5 }],
        }),
        logger: createLogger('silent'),
        webRoot: null,
      });

    const first = await start('10m');
    let running: RunningApp | null = first;
    cleanups.push(async () => {
      await running?.stop();
    });
    const client = createClient({
      host: '127.0.0.1',
      port: first.smtpAddress.port,
      starttls: 'never',
      pool: false,
    });
    await client.send({
      from: 'app@sender.test',
      to: ['tester@example.org'],
      message: 'Subject: Outbox\r\n\r\nbody\r\n',
    });
    await client.close();
    await receiver.waitFor(1);
    await first.stop();
    running = null;

    receiver.state.isFailing = false;
    running = await start('50ms');
    const requests = await receiver.waitFor(2);
    expect(requests[1]?.headers['x-smtp-delivery']).toBe(requests[0]?.headers['x-smtp-delivery']);
    expect(requests[1]?.json).toMatchObject({ type: 'received', data: { subject: 'Outbox' } });
  });
});
