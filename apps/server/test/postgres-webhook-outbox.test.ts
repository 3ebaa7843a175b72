import { createClient } from '@smtp/client';
import { type PostgresInstance, startPostgres } from '@smtp/test-support';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApp, startApp } from '../src/app.js';
import { configSchema } from '../src/config/config-schema.js';
import type { WebhookConfig } from '../src/config/webhooks-schema.js';
import { createLogger } from '../src/observability/logger.js';
import { PostgresStorage } from '../src/postgres/postgres-storage.js';
import { WebhookDispatcher } from '../src/webhooks/webhook-dispatcher.js';
import { logCapture } from './support/log-capture.js';
import { temporaryDirectory } from './support/messages.js';
import { nodeMtaSettings, queryRows, relay, startRemoteMx, waitUntil } from './support/shared-queue.js';
import { type ReceivedRequest, receivedEvent, startFailingReceiver } from './support/webhook-receiver.js';

/**
 * The webhook outbox shared by several nodes on PostgreSQL: an event whose node is gone for good is
 * posted by another node once its lease expires, with the tries made and the same id; a live node's
 * events are never taken; a node that restarts takes its own back at once. Real PostgreSQL, real
 * HTTP receivers.
 */
let postgres: PostgresInstance;
let databaseCount = 0;

beforeAll(async () => {
  postgres = await startPostgres();
}, 120_000);
afterAll(async () => {
  await postgres?.stop();
});

async function freshDatabase(): Promise<string> {
  databaseCount += 1;
  return postgres.createDatabase(`outbox_${process.pid}_${databaseCount}`);
}

/** The outbox's rows as the database has them: who holds each, and the tries made. */
function outboxRows(url: string): Promise<{ holder: string; tries: number }[]> {
  return queryRows(url, 'SELECT holder, tries FROM webhook_outbox ORDER BY created_at_ms, key');
}

describe('the webhook outbox on PostgreSQL', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  const webhookFor = (url: string, retryDelay: number): WebhookConfig => ({
    url,
    events: ['received'],
    timeout: 5000,
    attempts: 5,
    retryDelay,
  });

  it("another node leaves a live node's event alone, and posts it with the same id once that node is gone and its lease expired", async () => {
    const url = await freshDatabase();
    const receiver = await startFailingReceiver();
    cleanups.push(receiver.close);
    const open = () => PostgresStorage.open({ url, destinationLimit: 20, onError: () => undefined });
    const [storageA, storageB] = await Promise.all([open(), open()]);
    cleanups.push(
      () => storageA.close(),
      () => storageB.close(),
    );
    const { logger, lines } = logCapture('info');
    const leaseMs = 600;

    const nodeA = new WebhookDispatcher({
      webhooks: [webhookFor(receiver.url, 60_000)],
      logger,
      outbox: storageA.webhookOutbox({ nodeId: 'node-a', leaseMs }),
    });
    cleanups.push(() => nodeA.close());
    const nodeB = new WebhookDispatcher({
      webhooks: [webhookFor(receiver.url, 50)],
      logger,
      outbox: storageB.webhookOutbox({ nodeId: 'node-b', leaseMs }),
    });
    cleanups.push(() => nodeB.close());
    expect(await nodeB.resume()).toBe(0);

    nodeA.publish(receivedEvent('orphaned'));
    await receiver.waitFor(1);
    await waitUntil('the first try is recorded', async () => (await outboxRows(url))[0]?.tries === 1);
    // Node A waits a minute for its retry and renews its lease meanwhile: node B, looking every
    // 200 ms, takes nothing for three leases' time.
    await new Promise((resolve) => setTimeout(resolve, 3 * leaseMs));
    expect(receiver.requests).toHaveLength(1);
    expect((await outboxRows(url)).map((row) => row.holder)).toEqual([expect.stringMatching(/^node-a:/)]);

    // Node A is gone (stopped, nothing renews its lease); the receiver is back.
    await nodeA.close();
    receiver.state.isFailing = false;
    const requests = await receiver.waitFor(2);
    expect(requests[1]?.headers['x-smtp-delivery']).toBe(requests[0]?.headers['x-smtp-delivery']);
    expect(requests[1]?.json.data.subject).toBe('orphaned');
    expect(lines).toContainEqual(
      expect.objectContaining({ msg: 'webhook events resumed from a run that stopped', count: 1 }),
    );
    await waitUntil('the outbox is empty', async () => (await outboxRows(url)).length === 0);
    expect(receiver.requests).toHaveLength(2);
  }, 60_000);

  it('applies its writes in the order they were made, as the dispatcher fires them without waiting', async () => {
    const url = await freshDatabase();
    const storage = await PostgresStorage.open({ url, destinationLimit: 20, onError: () => undefined });
    cleanups.push(() => storage.close());
    const outbox = storage.webhookOutbox({ nodeId: 'node-a' });
    const entry = (id: string) => ({
      key: `${id}:http://127.0.0.1:9/hook`,
      url: 'http://127.0.0.1:9/hook',
      body: { id, type: 'received' as const, createdAt: 0, data: receivedEvent(id) },
      tries: 0,
    });
    const writes: Promise<void>[] = [];
    for (let index = 0; index < 20; index += 1) {
      const kept = entry(`kept-${index}`);
      const taken = entry(`taken-${index}`);
      // Not awaited one by one: an update or delete that overtook its insert would find no row.
      writes.push(outbox.add([kept, taken]), outbox.tried(kept.key, 3), outbox.remove(taken.key));
    }
    await Promise.all(writes);
    const rows = await queryRows<{ key: string; tries: number }>(
      url,
      'SELECT key, tries FROM webhook_outbox',
    );
    expect(rows).toHaveLength(20);
    expect(rows.every((row) => row.key.startsWith('kept-') && row.tries === 3)).toBe(true);
  }, 60_000);

  it("a node that restarts takes its earlier run's events back at once, not after the lease", async () => {
    const url = await freshDatabase();
    const receiver = await startFailingReceiver();
    cleanups.push(receiver.close);
    const storage = await PostgresStorage.open({ url, destinationLimit: 20, onError: () => undefined });
    cleanups.push(() => storage.close());
    const { logger } = logCapture();
    const first = new WebhookDispatcher({
      webhooks: [webhookFor(receiver.url, 60_000)],
      logger,
      outbox: storage.webhookOutbox({ nodeId: 'node-a', leaseMs: 3_600_000 }),
    });
    first.publish(receivedEvent('kept'));
    await receiver.waitFor(1);
    await waitUntil('the first try is recorded', async () => (await outboxRows(url))[0]?.tries === 1);
    await first.close();

    receiver.state.isFailing = false;
    // Another node does not take it: the lease has an hour to run.
    const other = new WebhookDispatcher({
      webhooks: [webhookFor(receiver.url, 50)],
      logger,
      outbox: storage.webhookOutbox({ nodeId: 'node-b', leaseMs: 3_600_000 }),
    });
    cleanups.push(() => other.close());
    expect(await other.resume()).toBe(0);
    const again = new WebhookDispatcher({
      webhooks: [webhookFor(receiver.url, 50)],
      logger,
      outbox: storage.webhookOutbox({ nodeId: 'node-a', leaseMs: 3_600_000 }),
    });
    cleanups.push(() => again.close());
    expect(await again.resume()).toBe(1);
    const requests = await receiver.waitFor(2);
    expect(requests[1]?.headers['x-smtp-delivery']).toBe(requests[0]?.headers['x-smtp-delivery']);
    await waitUntil('the outbox is empty', async () => (await outboxRows(url)).length === 0);
  }, 60_000);

  /**
   * The app on PostgreSQL with `settings`, a receiver of `event` that fails, and `send` causing one: once
   * its first try failed the app stops, the event waits in the shared outbox, and the app started
   * again on the same data directory posts it under the same id. The body of that second request.
   */
  async function postedAfterRestart(
    url: string,
    settings: Record<string, unknown>,
    event: WebhookConfig['events'][number],
    send: (app: RunningApp) => Promise<void>,
  ): Promise<ReceivedRequest['json']> {
    const receiver = await startFailingReceiver();
    cleanups.push(receiver.close);
    const directory = temporaryDirectory();
    cleanups.push(() => directory.remove());
    const start = (retryDelay: string): Promise<RunningApp> =>
      startApp({
        config: configSchema.parse({
          smtp: { port: 0 },
          http: { port: 0 },
          ...settings,
          storage: { url, dataDir: directory.path },
          log: { level: 'silent' },
          webhooks: [{ url: receiver.url, events: [event], retryDelay, attempts: 5 }],
        }),
        logger: createLogger('silent'),
        webRoot: null,
      });

    let running: RunningApp | null = await start('10m');
    cleanups.push(async () => {
      await running?.stop();
    });
    await send(running);
    await receiver.waitFor(1);
    await waitUntil('the first try is recorded', async () => (await outboxRows(url))[0]?.tries === 1);
    await running.stop();
    running = null;
    expect(await outboxRows(url)).toHaveLength(1);

    receiver.state.isFailing = false;
    running = await start('50ms');
    const requests = await receiver.waitFor(2);
    expect(requests[1]?.headers['x-smtp-delivery']).toBe(requests[0]?.headers['x-smtp-delivery']);
    await waitUntil('the outbox is empty', async () => (await outboxRows(url)).length === 0);
    return requests[1]?.json as ReceivedRequest['json'];
  }

  it('the app on PostgreSQL keeps a delivery event its receiver had not taken, and posts it after a restart', async () => {
    const remote = await startRemoteMx(0);
    cleanups.push(() => remote.stop());
    const settings = {
      mode: 'mta',
      mta: {
        ...nodeMtaSettings(remote, 'node1.local.test'),
        listeners: [{ role: 'relay', host: '127.0.0.1', port: 0 }],
      },
    };
    const posted = await postedAfterRestart(await freshDatabase(), settings, 'delivered', async (app) => {
      const relayPort = app.mtaListeners.find((listener) => listener.role === 'relay')?.address.port ?? 0;
      await relay(relayPort, 'webhook-on-postgres');
    });
    expect(posted).toMatchObject({ type: 'delivered' });
  }, 120_000);

  it('capture mode on PostgreSQL keeps a received event in the shared outbox across a restart', async () => {
    const posted = await postedAfterRestart(await freshDatabase(), {}, 'received', async (app) => {
      const client = createClient({
        host: '127.0.0.1',
        port: app.smtpAddress.port,
        starttls: 'never',
        pool: false,
      });
      await client.send({
        from: 'app@sender.test',
        to: ['tester@example.org'],
        message: 'Subject: Captured\r\n\r\nx\r\n',
      });
      await client.close();
    });
    expect(posted).toMatchObject({ type: 'received', data: { subject: 'Captured' } });
  }, 120_000);
});
