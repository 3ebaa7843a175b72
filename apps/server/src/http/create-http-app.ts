import { Hono } from 'hono';
import type { MailboxEvent } from '../capture/mailbox-event.js';
import type { MailboxIndex } from '../capture/mailbox-index.js';
import type { ChaosControl } from '../chaos/chaos-control.js';
import type { HttpUser } from '../config/http-access-schema.js';
import type { LinkCheckSettings } from '../config/link-check-schema.js';
import type { RelaySettings } from '../config/relay-schema.js';
import type { EventBus } from '../events/event-bus.js';
import type { Logger } from '../observability/logger.js';
import type { AppMetrics } from '../observability/metrics.js';
import { relayTargetOf } from '../release/relay-target.js';
import type { ReleaseMessage } from '../release/release-message.js';
import type { MessageRepository } from '../spool/message-repository.js';
import type { SuppressionList } from '../suppression/suppression-list.js';
import { basicAuth } from './basic-auth.js';
import { registerChaosRoutes } from './chaos-routes.js';
import { registerCheckRoutes } from './check-routes.js';
import { EventReplay } from './event-replay.js';
import { streamEvents } from './event-stream.js';
import type { HostAllowList } from './host-allow-list.js';
import { type InboundRoutesOptions, registerInboundRoutes } from './inbound-routes.js';
import { type IngestReadiness, registerMessageRoutes } from './message-routes.js';
import { openApiDocument } from './openapi-document.js';
import type { Outgoing } from './outgoing.js';
import { type QueueRoutesOptions, registerQueueRoutes } from './queue-routes.js';
import { requestGuard } from './request-guard.js';
import type { SmtpListeners, MailboxEvent as WireMailboxEvent } from './schemas/index.js';
import type { ServerInfo } from './schemas/server-info-schema.js';
import { registerSendRoutes, type StoreComposed } from './send-routes.js';
import type { StaticAsset } from './static-assets.js';
import { registerSuppressionRoutes } from './suppression-routes.js';
import { registerTagRoutes } from './tag-routes.js';

export interface HttpAppOptions {
  readonly spool: MessageRepository;
  readonly mailbox: MailboxIndex;
  readonly events: EventBus<MailboxEvent>;
  readonly metrics: AppMetrics;
  readonly logger: Logger;
  readonly releaseMessage: ReleaseMessage;
  readonly releaseAllowedHosts: readonly string[];
  /** The Host (and Origin) names answered; any other gets 421 (DNS rebinding). */
  readonly hostAllowList: HostAllowList;
  readonly assets: ReadonlyMap<string, StaticAsset>;
  /** The ingest pipeline: reads wait briefly for messages accepted but not parsed yet. */
  readonly ingest?: IngestReadiness;
  /** MTA mode: the delivery queue's routes (/api/v1/queue). */
  readonly queue?: QueueRoutesOptions;
  /** MTA mode: the suppression list's routes (/api/v1/suppressions). */
  readonly suppressions?: SuppressionList;
  /** http.auth.users: with any, every request but /healthz needs Basic auth as one of them. */
  readonly users?: readonly HttpUser[];
  /** POST /api/v1/send stores composed messages with this (the ingest pipeline); absent: no route. */
  readonly storeComposed?: StoreComposed;
  /** Where this server takes mail, for GET /api/v1/listeners (the UI's empty inbox names it). */
  readonly smtpListeners?: SmtpListeners;
  /** MTA mode with an inbound section: what the MX received (/api/v1/inbound). */
  readonly inbound?: InboundRoutesOptions;
  /** config `linkCheck`: the link check's limits and whether private addresses may be fetched. */
  readonly linkCheck?: LinkCheckSettings;
  /** config `relay`: where releases without a host and POST /api/v1/send {relay: true} go. */
  readonly relay?: RelaySettings | null;
  /** Capture mode: SMTP fault injection, read and replaced at /api/v1/chaos. */
  readonly chaos?: ChaosControl;
  /** SSE keep-alive comment interval; proxies drop idle streams. */
  readonly keepAliveMs?: number;
}

const uiContentSecurityPolicy = [
  "default-src 'self'",
  "img-src 'self' data:",
  "style-src 'self'",
  "script-src 'self'",
  "frame-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The web UI and REST API. Hono: a small router on web-standard Request/Response with a built-in
 * SSE helper and typed context, served by @hono/node-server, light enough that a list request
 * costs little more than its SQL.
 */
export function createHttpApp(options: HttpAppOptions): Hono {
  const app = new Hono();
  const { metrics, logger } = options;

  app.use(async (context, next) => {
    const started = performance.now();
    await next();
    context.header('X-Content-Type-Options', 'nosniff');
    context.header('Referrer-Policy', 'no-referrer');
    const route = context.req.routePath;
    metrics.httpRequestSeconds.observe(
      { method: context.req.method, route, status: String(context.res.status) },
      (performance.now() - started) / 1000,
    );
  });
  app.use(requestGuard(options.hostAllowList));
  if (options.users !== undefined && options.users.length > 0) app.use(basicAuth(options.users));

  app.onError((error, context) => {
    logger.error({ err: error, method: context.req.method, path: context.req.path }, 'request failed');
    return context.json({ error: 'Internal error' }, 500);
  });

  const relay = options.relay ?? null;
  if (options.storeComposed !== undefined)
    registerSendRoutes(
      app,
      options.storeComposed,
      relay === null
        ? null
        : {
            allowedRecipients: relay.allowedRecipients,
            async relayStored(id, from, to) {
              const raw = await options.spool.getRaw(id);
              if (raw === null) throw new Error('the stored message is gone');
              return options.releaseMessage(raw, relayTargetOf(relay, from, to));
            },
          },
    );

  app.get('/api/v1/listeners', (context) =>
    options.smtpListeners === undefined
      ? context.json({ error: 'Not known here' }, 404)
      : context.json(options.smtpListeners satisfies Outgoing<SmtpListeners>),
  );

  app.get('/healthz', async (context) => {
    const counts = await options.mailbox.counts();
    return context.json({ status: 'ok', messages: counts.messageCount });
  });

  app.get('/metrics', async (context) => {
    context.header('Content-Type', metrics.registry.contentType);
    return context.body(await metrics.registry.metrics());
  });

  app.get('/api/v1/openapi.json', (context) => context.json(openApiDocument));

  // Kept from the start, so a client that reconnects gets what happened while it was away.
  const mailboxEvents = new EventReplay<Outgoing<WireMailboxEvent>>((listener) =>
    options.events.subscribe(listener),
  );
  app.get('/api/v1/events', (context) => streamEvents(context, mailboxEvents, options.keepAliveMs ?? 20_000));

  app.get('/api/v1/info', (context) => {
    const info: Outgoing<ServerInfo> = {
      mode: options.queue === undefined ? 'capture' : 'mta',
      inbound: options.inbound !== undefined,
    };
    return context.json(info);
  });

  registerMessageRoutes(app, options);
  registerTagRoutes(app, options);
  registerCheckRoutes(app, options);
  if (options.chaos !== undefined) registerChaosRoutes(app, options.chaos);
  if (options.queue !== undefined)
    registerQueueRoutes(app, {
      ...(options.keepAliveMs === undefined ? {} : { keepAliveMs: options.keepAliveMs }),
      ...options.queue,
    });
  if (options.suppressions !== undefined) registerSuppressionRoutes(app, options.suppressions);
  if (options.inbound !== undefined) registerInboundRoutes(app, options.inbound);

  app.get('*', (context) => {
    const path = context.req.path;
    const asset =
      options.assets.get(path) ?? (path.startsWith('/api/') ? undefined : options.assets.get('/index.html'));
    if (asset === undefined) {
      if (path.startsWith('/api/')) return context.json({ error: 'Not found' }, 404);
      return context.text('The web UI is not built: run `pnpm --filter @smtp/app build`.', 503);
    }
    context.header('Content-Type', asset.contentType);
    if (asset.contentType.startsWith('text/html')) {
      context.header('Content-Security-Policy', uiContentSecurityPolicy);
      context.header('Cache-Control', 'no-cache');
    }
    return context.body(asset.body as Uint8Array<ArrayBuffer>);
  });

  return app;
}
