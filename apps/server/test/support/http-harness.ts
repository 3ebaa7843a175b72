import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import type { MailboxEvent } from '../../src/capture/mailbox-event.js';
import { InProcessEventBus } from '../../src/events/in-process-event-bus.js';
import { createHttpApp } from '../../src/http/create-http-app.js';
import { HostAllowList } from '../../src/http/host-allow-list.js';
import { parseMessage } from '../../src/mime/parse-message.js';
import { createLogger } from '../../src/observability/logger.js';
import { AppMetrics } from '../../src/observability/metrics.js';
import { createCapturePipeline } from '../../src/pipeline/capture-pipeline.js';
import { createMessageId } from '../../src/pipeline/message-id.js';
import type { ReleaseMessage } from '../../src/release/release-message.js';
import { SqliteStorage } from '../../src/sqlite/sqlite-storage.js';
import { temporaryDirectory } from './messages.js';

/** The HTTP side over a real socket, with messages fed through the real ingest pipeline (no SMTP). */
export async function startHttpHarness(
  options: {
    releaseMessage?: ReleaseMessage;
    releaseAllowedHosts?: string[];
    /** http.allowedHosts */
    allowedHosts?: string[];
    /** http.host as configured (default: the address listened on), e.g. 0.0.0.0 */
    bindHost?: string;
    /** The loopback address actually listened on (default 127.0.0.1) */
    listenHost?: string;
  } = {},
) {
  const listenHost = options.listenHost ?? '127.0.0.1';
  const directory = temporaryDirectory();
  const storage = new SqliteStorage({ parse: parseMessage, path: join(directory.path, 'messages.sqlite') });
  const { spool, mailbox } = storage;
  const events = new InProcessEventBus<MailboxEvent>();
  const metrics = new AppMetrics(mailbox);
  const logger = createLogger('silent');
  const pipeline = createCapturePipeline({ spool, mailbox, events });
  const app = createHttpApp({
    spool,
    mailbox,
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
    hostAllowList: new HostAllowList({
      bindHost: options.bindHost ?? listenHost,
      extraHosts: options.allowedHosts ?? [],
    }),
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
    async storeComposed(message) {
      const receivedAtMs = Date.now();
      const context = await pipeline.accept({
        id: createMessageId(receivedAtMs),
        receivedAtMs,
        envelope: {
          from: message.from,
          to: [...message.to],
          mailParameters: {},
          rcptParameters: message.to.map(() => ({})),
        },
        session: null,
        source: message.source,
      });
      return context.id;
    },
  });
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const started = serve({ fetch: app.fetch, hostname: listenHost, port: 0 }, () => resolve(started));
  });
  const port = (server.address() as AddressInfo).port;
  const baseUrl = `http://${listenHost}:${port}`;
  return {
    baseUrl,
    port,
    spool,
    mailbox,
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
        envelope: { ...envelope, mailParameters: {}, rcptParameters: envelope.to.map(() => ({})) },
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
      await storage.close();
      directory.remove();
    },
  };
}
