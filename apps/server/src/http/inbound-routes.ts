import type { Reply } from '@smtp/protocol';
import type { Hono } from 'hono';
import type { z } from 'zod';
import type { InboundLog, InboundRecord } from '../inbound/inbound-log.js';
import type { DeliveryQueue } from '../queue/delivery-queue.js';
import type { Outgoing } from './outgoing.js';
import type {
  inboundDeliverySchema,
  inboundMessageSchema,
  inboundPageSchema,
  inboundSummarySchema,
} from './schemas/inbound-schemas.js';

export interface InboundRoutesOptions {
  readonly log: InboundLog;
  readonly queue: Pick<DeliveryQueue, 'show'>;
}

/**
 * /api/v1/inbound: what the MX received, newest first (keyset paging by an opaque cursor), and one
 * message with where each of its deliveries went (the queue's record of it).
 */
export function registerInboundRoutes(app: Hono, options: InboundRoutesOptions): void {
  app.get('/api/v1/inbound', async (context) => {
    const limit = Number(context.req.query('limit') ?? 100);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
      return context.json({ error: 'limit is 1 to 1000' }, 400);
    const cursor = context.req.query('cursor');
    const before = cursor === undefined ? undefined : parseCursor(cursor);
    if (before === null) return context.json({ error: 'cursor is a nextCursor from a previous page' }, 400);
    const page = await options.log.list({ limit, ...(before === undefined ? {} : { before }) });
    const last = page.at(-1);
    const body: Outgoing<z.infer<typeof inboundPageSchema>> = {
      messages: page.map(summaryToWire),
      nextCursor:
        page.length === limit && last !== undefined ? `${last.receivedAtMs}.${last.messageId}` : null,
    };
    return context.json(body);
  });

  app.get('/api/v1/inbound/:id', async (context) => {
    const record = await options.log.get(context.req.param('id'));
    if (record === null) return context.json({ error: 'No such inbound message' }, 404);
    const shown = await options.queue.show(record.messageId);
    const deliveries = (shown?.deliveries ?? []).map(
      (delivery): Outgoing<z.infer<typeof inboundDeliverySchema>> => {
        const latest = shown?.attempts.filter((attempt) => attempt.deliveryId === delivery.id).at(-1);
        return {
          deliveryId: delivery.id,
          recipient: delivery.recipient,
          sender: delivery.sender,
          status: delivery.state.status,
          via: latest?.mxHost ?? null,
          detail:
            latest?.mxHost === 'maildir' && latest.outcome === 'delivered'
              ? latest.transcript.replace(/^delivered to /, '')
              : null,
          lastReply: delivery.lastReply === null ? null : replyText(delivery.lastReply),
          lastStatus: delivery.lastStatus,
        };
      },
    );
    const body: Outgoing<z.infer<typeof inboundMessageSchema>> = { ...summaryToWire(record), deliveries };
    return context.json(body);
  });
}

/** `<receivedAtMs>.<messageId>`; null when malformed. */
function parseCursor(cursor: string): { receivedAtMs: number; messageId: string } | null {
  const dot = cursor.indexOf('.');
  const receivedAtMs = Number(cursor.slice(0, dot));
  if (dot < 1 || !Number.isInteger(receivedAtMs)) return null;
  return { receivedAtMs, messageId: cursor.slice(dot + 1) };
}

function summaryToWire(record: InboundRecord): Outgoing<z.infer<typeof inboundSummarySchema>> {
  return {
    messageId: record.messageId,
    receivedAt: record.receivedAtMs,
    client: record.client,
    sender: record.sender,
    recipients: record.recipients.map(({ recipient, targets }) => ({
      recipient,
      targets: targets.map(({ kind, address }) => ({ kind, address })),
    })),
    checks: record.checks.map(({ check, result, reason }) => ({
      check,
      result,
      ...(reason === undefined ? {} : { reason }),
    })),
  };
}

function replyText(reply: Reply): string {
  return `${reply.code}${reply.enhanced === null ? '' : ` ${reply.enhanced}`} ${reply.lines.join(' ')}`.trimEnd();
}
