import { createClient } from '@smtp/client';
import { type PostgresInstance, startPostgres } from '@smtp/test-support';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApp, startApp } from '../src/app.js';
import { configSchema } from '../src/config/config-schema.js';
import type { WebhookConfig } from '../src/config/webhooks-schema.js';
import { createLogger } from '../src/observability/logger.js';
import { PostgresStorage } from '../src/postgres/postgres-storage.js';
import { WebhookDispatcher } from '../src/webhooks/webhook-dispatcher.js';
import type { WebhookEvent } from '../src/webhooks/webhook-event.js';
import { logCapture } from './support/log-capture.js';
import { temporaryDirectory } from './support/messages.js';
import { nodeMtaSettings, relay, startRemoteMx } from './support/shared-queue.js';
import { startReceiver } from './support/webhook-receiver.js';

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

/** A receiver that answers 503 while `state.isFailing`, 200 after. */
async function startFailingReceiver() {
  const state = { isFailing: true };
  const receiver = await startReceiver((_number, response) => {
    response.statusCode = state.isFailing ? 503 : 200;
    response.end();
  });
  return Object.assign(receiver, { state });
}

function receivedEvent(subject: string): WebhookEvent {
  return {
    type: 'received',
    messageId: subject,
    receivedAt: 0,
    sender: '',
    recipients: [],
    subject,
    sizeBytes: 0,
  };
}

async function eventually(condition: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The outbox's rows as the database has them: who holds each, and the tries made. */
async function outboxRows(url: string): Promise<{ holder: string; tries: number }[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query('SELECT holder, tries FROM webhook_outbox ORDER BY created_at_ms, key')).rows;
  } finally {
    await client.end();
  }
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
    await eventually(async () => (await outboxRows(url))[0]?.tries === 1);
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
    await eventually(async () => (await outboxRows(url)).length === 0);
    expect(receiver.requests).toHaveLength(2);
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
    await eventually(async () => (await outboxRows(url))[0]?.tries === 1);
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
    await eventually(async () => (await outboxRows(url)).length === 0);
  }, 60_000);

  it('the app on PostgreSQL keeps a delivery event its receiver had not taken, and posts it after a restart', async () => {
    const url = await freshDatabase();
    const receiver = await startFailingReceiver();
    cleanups.push(receiver.close);
    const remote = await startRemoteMx(0);
    cleanups.push(() => remote.stop());
    const directory = temporaryDirectory();
    cleanups.push(() => directory.remove());
    const start = (retryDelay: string): Promise<RunningApp> =>
      startApp({
        config: configSchema.parse({
          mode: 'mta',
          smtp: { port: 0 },
          http: { port: 0 },
          mta: {
            ...nodeMtaSettings(remote, 'node1.local.test'),
            listeners: [{ role: 'relay', host: '127.0.0.1', port: 0 }],
          },
          storage: { url, dataDir: directory.path },
          log: { level: 'silent' },
          webhooks: [{ url: receiver.url, events: ['delivered'], retryDelay, attempts: 5 }],
        }),
        logger: createLogger('silent'),
        webRoot: null,
      });

    let running: RunningApp | null = await start('10m');
    cleanups.push(async () => {
      await running?.stop();
    });
    const relayPort = running.mtaListeners.find((listener) => listener.role === 'relay')?.address.port ?? 0;
    await relay(relayPort, 'webhook-on-postgres');
    await receiver.waitFor(1);
    await eventually(async () => (await outboxRows(url))[0]?.tries === 1);
    await running.stop();
    running = null;
    expect(await outboxRows(url)).toHaveLength(1);

    receiver.state.isFailing = false;
    running = await start('50ms');
    const requests = await receiver.waitFor(2);
    expect(requests[1]?.headers['x-smtp-delivery']).toBe(requests[0]?.headers['x-smtp-delivery']);
    expect(requests[1]?.json).toMatchObject({ type: 'delivered' });
    await eventually(async () => (await outboxRows(url)).length === 0);
  }, 120_000);

  it('capture mode on PostgreSQL keeps a received event in the shared outbox across a restart', async () => {
    const url = await freshDatabase();
    const receiver = await startFailingReceiver();
    cleanups.push(receiver.close);
    const directory = temporaryDirectory();
    cleanups.push(() => directory.remove());
    const start = (retryDelay: string): Promise<RunningApp> =>
      startApp({
        config: configSchema.parse({
          smtp: { port: 0 },
          http: { port: 0 },
          storage: { url, dataDir: directory.path },
          log: { level: 'silent' },
          webhooks: [{ url: receiver.url, events: ['received'], retryDelay, attempts: 5 }],
        }),
        logger: createLogger('silent'),
        webRoot: null,
      });

    let running: RunningApp | null = await start('10m');
    cleanups.push(async () => {
      await running?.stop();
    });
    const client = createClient({
      host: '127.0.0.1',
      port: running.smtpAddress.port,
      starttls: 'never',
      pool: false,
    });
    await client.send({
      from: 'app@sender.test',
      to: ['tester@example.org'],
      message: 'Subject: Captured\r\n\r\nx\r\n',
    });
    await client.close();
    await receiver.waitFor(1);
    await eventually(async () => (await outboxRows(url))[0]?.tries === 1);
    await running.stop();
    running = null;
    expect(await outboxRows(url)).toHaveLength(1);

    receiver.state.isFailing = false;
    running = await start('50ms');
    const requests = await receiver.waitFor(2);
    expect(requests[1]?.headers['x-smtp-delivery']).toBe(requests[0]?.headers['x-smtp-delivery']);
    expect(requests[1]?.json).toMatchObject({ type: 'received', data: { subject: 'Captured' } });
    await eventually(async () => (await outboxRows(url)).length === 0);
  }, 120_000);
});
