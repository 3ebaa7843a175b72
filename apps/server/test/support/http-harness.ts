import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { MailEvents } from '../../src/events/mail-events.js';
import { createHttpApp } from '../../src/http/create-http-app.js';
import { createLogger } from '../../src/observability/logger.js';
import { AppMetrics } from '../../src/observability/metrics.js';
import { createCapturePipeline } from '../../src/pipeline/capture-pipeline.js';
import { createMessageId } from '../../src/pipeline/message-id.js';
import type { ReleaseMessage } from '../../src/release/release-message.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { temporaryDirectory } from './messages.js';

/** The HTTP side over a real socket, with messages fed through the real ingest pipeline (no SMTP). */
export async function startHttpHarness(
  options: { releaseMessage?: ReleaseMessage; releaseAllowedHosts?: string[] } = {},
) {
  const directory = temporaryDirectory();
  const store = new SqliteStore({ path: join(directory.path, 'messages.sqlite') });
  const events = new MailEvents();
  const metrics = new AppMetrics(store);
  const logger = createLogger('silent');
  const pipeline = createCapturePipeline({ store, events });
  const app = createHttpApp({
    store,
    ingest: pipeline,
    events,
    metrics,
    logger,
    releaseMessage:
      options.releaseMessage ??
      (async () => {
        throw new Error('release not configured in this test');
      }),
    releaseAllowedHosts: options.releaseAllowedHosts ?? [],
    assets: new Map([
      [
        '/index.html',
        {
          body: new TextEncoder().encode('<!doctype html><title>inbox</title>'),
          contentType: 'text/html; charset=utf-8',
        },
      ],
    ]),
    keepAliveMs: 200,
  });
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const started = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(started));
  });
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseUrl,
    store,
    events,
    pipeline,
    async ingest(
      raw: string | Uint8Array,
      envelope = { from: 'alice@example.com', to: ['bob@example.net'] },
    ) {
      const bytes = typeof raw === 'string' ? new TextEncoder().encode(raw) : raw;
      const receivedAtMs = Date.now();
      const context = await pipeline.run({
        id: createMessageId(receivedAtMs),
        receivedAtMs,
        envelope: { ...envelope, mailParameters: {} },
        session: null,
        source: [bytes],
      });
      return context.id;
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        if ('closeAllConnections' in server) server.closeAllConnections();
      });
      await pipeline.settled({ timeoutMs: 5000 });
      await store.close();
      directory.remove();
    },
  };
}
