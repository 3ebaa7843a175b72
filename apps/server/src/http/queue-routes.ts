import type { Context, Hono } from 'hono';
import type { z } from 'zod';
import { parseDuration } from '../config/parse-duration.js';
import type { DeliveryEvent } from '../delivery/delivery-event.js';
import { purgeFinishedMail } from '../delivery/finished-mail-retention.js';
import type { EventBus } from '../events/event-bus.js';
import { queueEventsOf } from '../events/queue-event.js';
import {
  type DeliveryQueue,
  type DeliveryRecord,
  type OperatorAction,
  operatorActions,
  type StoredAttempt,
} from '../queue/delivery-queue.js';
import { allowedActions } from '../queue/delivery-state.js';
import { replyText } from '../queue/reply-text.js';
import { EventReplay } from './event-replay.js';
import { streamEvents } from './event-stream.js';
import { readJson } from './message-routes.js';
import type { Outgoing } from './outgoing.js';
import type { QueueEvent } from './schemas/queue-event-schema.js';
import {
  bulkActionRequestSchema,
  type bulkActionResultSchema,
  deliveryStatusSchema,
  type QueuedDelivery,
  type queueActionResultSchema,
  queueActionSchema,
  type queuedMessageSchema,
  type queuePageSchema,
  queuePurgeRequestSchema,
  type queuePurgeResultSchema,
  type queueSummarySchema,
} from './schemas/queue-schemas.js';

export interface QueueRoutesOptions {
  readonly queue: DeliveryQueue;
  readonly now?: () => number;
  /** After an action: wake the scheduler (retry-now, release), report a bounce. */
  readonly onAction?: (action: OperatorAction, deliveries: readonly DeliveryRecord[]) => void;
  /**
   * The delivery bus: GET /api/v1/queue/events streams it (as operator events, events/queue-event.ts),
   * and the operators' actions are published to it.
   */
  readonly events?: EventBus<DeliveryEvent>;
  /** SSE keep-alive comment interval. */
  readonly keepAliveMs?: number;
  /** Told the ids of the messages an operator's purge removed (the inbox's message-deleted event). */
  readonly onPurged?: (messageIds: readonly string[]) => void;
}

/**
 * /api/v1/queue: the delivery queue made visible (list, one message with every attempt) and the
 * operator's actions on one delivery or on every delivery of a message. Thin: the queue contract
 * and its state machine decide; a refused action answers 409 with the reason.
 */
/** Deliveries acted on per page of a bulk action: one group commit's worth of writes. */
const bulkPageSize = 500;

export function registerQueueRoutes(app: Hono, options: QueueRoutesOptions): void {
  const { queue } = options;
  const now = options.now ?? Date.now;

  app.get('/api/v1/queue', async (context) => {
    const status = context.req.query('status');
    const limit = Number(context.req.query('limit') ?? 100);
    const after = Number(context.req.query('after') ?? 0);
    if (status !== undefined && !deliveryStatusSchema.safeParse(status).success)
      return context.json({ error: `Unknown status: ${status}` }, 400);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000 || !Number.isInteger(after) || after < 0)
      return context.json({ error: 'limit is 1 to 1000, after a delivery id' }, 400);
    const domain = context.req.query('domain');
    const deliveries = await queue.list({
      limit,
      afterId: after,
      ...(status === undefined ? {} : { status: deliveryStatusSchema.parse(status) }),
      ...(domain === undefined ? {} : { domain }),
    });
    const page: Outgoing<z.infer<typeof queuePageSchema>> = {
      deliveries: deliveries.map(toWire),
      nextAfter: deliveries.length === limit ? (deliveries.at(-1)?.id ?? null) : null,
    };
    return context.json(page);
  });

  // Kept from the start, so a client that reconnects gets what happened while it was away.
  const deliveryEvents = options.events;
  const queueEvents =
    deliveryEvents === undefined
      ? null
      : new EventReplay<Outgoing<QueueEvent>>((listener) =>
          deliveryEvents.subscribe((event) => {
            for (const queueEvent of queueEventsOf(event)) listener(queueEvent);
          }),
        );
  app.get('/api/v1/queue/events', (context) => {
    if (queueEvents === null) return context.json({ error: 'No delivery events here' }, 404);
    return streamEvents(context, queueEvents, options.keepAliveMs ?? 20_000);
  });

  app.get('/api/v1/queue/summary', async (context) => {
    const summary: Outgoing<z.infer<typeof queueSummarySchema>> = {
      byStatus: await queue.countByStatus(),
      nextDueAt: await queue.nextDueAt(),
    };
    return context.json(summary);
  });

  app.get('/api/v1/queue/messages/:id', async (context) => {
    const shown = await queue.show(context.req.param('id'));
    if (shown === null) return context.json({ error: 'No such message in the queue' }, 404);
    const message: Outgoing<z.infer<typeof queuedMessageSchema>> = {
      messageId: shown.messageId,
      deliveries: shown.deliveries.map(toWire),
      attempts: shown.attempts.map(attemptToWire),
    };
    return context.json(message);
  });

  /** Applies an action to each delivery (the state machine may refuse some); tells of the changed. */
  const apply = async (action: OperatorAction, deliveries: readonly DeliveryRecord[]) => {
    const outcomes = await Promise.all(
      deliveries.map(async (delivery) => ({ delivery, result: await queue.act(delivery.id, action, now()) })),
    );
    const changed = outcomes.flatMap(({ delivery, result }) =>
      result.ok ? [{ ...delivery, state: result.state }] : [],
    );
    if (changed.length > 0) {
      options.onAction?.(action, changed);
      options.events?.publish({ type: 'operator-action', action, deliveries: changed, at: now() });
    }
    return outcomes;
  };

  const act = async (context: Context, deliveries: readonly DeliveryRecord[]) => {
    const action = queueActionSchema.safeParse(context.req.param('action'));
    if (!action.success)
      return context.json({ error: `Unknown action: ${context.req.param('action')}` }, 404);
    const results = (await apply(action.data, deliveries)).map(({ delivery, result }) => ({
      deliveryId: delivery.id,
      ok: result.ok,
      status: result.ok ? result.state.status : null,
      reason: result.ok ? null : result.reason,
    }));
    const body: Outgoing<z.infer<typeof queueActionResultSchema>> = { results };
    return context.json(body, results.some((result) => result.ok) ? 200 : 409);
  };

  // Every delivery a filter selects (postqueue -s, postsuper -d ALL deferred), page by page.
  app.post('/api/v1/queue/actions/:action', async (context) => {
    const action = queueActionSchema.safeParse(context.req.param('action'));
    if (!action.success)
      return context.json({ error: `Unknown action: ${context.req.param('action')}` }, 404);
    const body = await readJson(context, bulkActionRequestSchema);
    if (!body.ok) return body.response;
    const { status, domain, all } = body.value;
    if (status === undefined && domain === undefined && all !== true)
      return context.json({ error: 'Say which deliveries: status, domain, or all: true' }, 400);
    let matched = 0;
    let changed = 0;
    const refused: Record<string, number> = {};
    let afterId = 0;
    for (;;) {
      const page = await queue.list({
        limit: bulkPageSize,
        afterId,
        ...(status === undefined ? {} : { status }),
        ...(domain === undefined ? {} : { domain }),
      });
      for (const { result } of await apply(action.data, page)) {
        if (result.ok) changed += 1;
        else refused[result.reason] = (refused[result.reason] ?? 0) + 1;
      }
      matched += page.length;
      const last = page.at(-1);
      if (page.length < bulkPageSize || last === undefined) break;
      afterId = last.id;
    }
    const result: Outgoing<z.infer<typeof bulkActionResultSchema>> = { matched, changed, refused };
    return context.json(result);
  });

  app.post('/api/v1/queue/purge', async (context) => {
    const body = await readJson(context, queuePurgeRequestSchema);
    if (!body.ok) return body.response;
    const olderThanMs = body.value.olderThan === undefined ? 0 : (parseDuration(body.value.olderThan) ?? 0);
    // Everything finished, also a change stamped a moment ahead by another node's clock.
    const finishedBefore = olderThanMs === 0 ? Number.MAX_SAFE_INTEGER : now() - olderThanMs;
    const purged = await purgeFinishedMail(queue, finishedBefore);
    if (purged.length > 0) options.onPurged?.(purged);
    const result: Outgoing<z.infer<typeof queuePurgeResultSchema>> = { purged: purged.length };
    return context.json(result);
  });

  app.post('/api/v1/queue/deliveries/:deliveryId/:action', async (context) => {
    const delivery = await queue.get(Number(context.req.param('deliveryId')));
    if (delivery === null) return context.json({ error: 'No such delivery' }, 404);
    return act(context, [delivery]);
  });

  app.post('/api/v1/queue/messages/:id/:action', async (context) => {
    const shown = await queue.show(context.req.param('id'));
    if (shown === null) return context.json({ error: 'No such message in the queue' }, 404);
    return act(context, shown.deliveries);
  });
}

function toWire(delivery: DeliveryRecord): QueuedDelivery {
  const { state } = delivery;
  return {
    id: delivery.id,
    messageId: delivery.messageId,
    sender: delivery.sender,
    recipient: delivery.recipient,
    domain: delivery.domain,
    status: state.status,
    attempts: state.attempts,
    arrivedAt: delivery.arrivedAt,
    dueAt: state.status === 'queued' ? state.dueAt : null,
    leaseExpiresAt: state.status === 'in-flight' ? state.lease.expiresAt : null,
    failureCause: state.status === 'failed' ? state.cause : null,
    notify:
      delivery.notify === null ? null : delivery.notify === 'NEVER' ? 'NEVER' : delivery.notify.join(','),
    lastReply: delivery.lastReply === null ? null : replyText(delivery.lastReply),
    lastStatus: delivery.lastStatus,
    actions: operatorActions.filter((action) =>
      (allowedActions[state.status] as readonly string[]).includes(action),
    ),
  };
}

function attemptToWire(attempt: StoredAttempt) {
  return {
    id: attempt.id,
    deliveryId: attempt.deliveryId,
    startedAt: attempt.startedAt,
    endedAt: attempt.endedAt,
    mxHost: attempt.mxHost,
    tls: attempt.tls,
    outcome: attempt.outcome,
    status: attempt.status,
    rule: attempt.rule,
    reply: attempt.reply === null ? null : replyText(attempt.reply),
    error: attempt.error,
    transcript: attempt.transcript,
  };
}
