import type { Hono } from 'hono';
import type { z } from 'zod';
import type { Suppression, SuppressionList } from '../suppression/suppression-list.js';
import type { Outgoing } from './outgoing.js';
import {
  suppressionAddRequestSchema,
  type suppressionPageSchema,
  type suppressionRemovedSchema,
  type suppressionSchema,
} from './schemas/suppression-schemas.js';

/**
 * /api/v1/suppressions: the recipients refused at RCPT after a permanent 5.1.x failure, newest
 * first (keyset paging by an opaque cursor), an operator's own entries, and their removal so mail
 * to them is accepted again.
 */
export function registerSuppressionRoutes(
  app: Hono,
  suppressions: SuppressionList,
  now: () => number = Date.now,
): void {
  app.get('/api/v1/suppressions', async (context) => {
    const limit = Number(context.req.query('limit') ?? 100);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
      return context.json({ error: 'limit is 1 to 1000' }, 400);
    const cursor = context.req.query('cursor');
    const before = cursor === undefined ? undefined : parseCursor(cursor);
    if (before === null) return context.json({ error: 'cursor is a nextCursor from a previous page' }, 400);
    const page = await suppressions.list({ limit, ...(before === undefined ? {} : { before }) });
    const last = page.at(-1);
    const body: Outgoing<z.infer<typeof suppressionPageSchema>> = {
      suppressions: page.map(toWire),
      nextCursor: page.length === limit && last !== undefined ? `${last.createdAtMs}.${last.address}` : null,
    };
    return context.json(body);
  });

  app.post('/api/v1/suppressions', async (context) => {
    const request = suppressionAddRequestSchema.safeParse(await context.req.json().catch(() => null));
    if (!request.success)
      return context.json({ error: request.error.issues.map((issue) => issue.message).join('; ') }, 400);
    const existing = await suppressions.find(request.data.address);
    if (existing !== null) return context.json(toWire(existing), 200);
    await suppressions.add({
      address: request.data.address,
      reason: request.data.reason ?? 'added by an operator',
      createdAtMs: now(),
      messageId: null,
      deliveryId: null,
    });
    const added = await suppressions.find(request.data.address);
    if (added === null) return context.json({ error: 'The entry was not stored' }, 500);
    return context.json(toWire(added), 201);
  });

  app.delete('/api/v1/suppressions/:address', async (context) => {
    const address = context.req.param('address');
    if (!(await suppressions.remove(address))) return context.json({ error: 'Not suppressed' }, 404);
    const body: Outgoing<z.infer<typeof suppressionRemovedSchema>> = { address, removed: true };
    return context.json(body);
  });
}

/** `<createdAtMs>.<address>`; null when malformed. */
function parseCursor(cursor: string): { createdAtMs: number; address: string } | null {
  const dot = cursor.indexOf('.');
  const createdAtMs = Number(cursor.slice(0, dot));
  if (dot < 1 || !Number.isInteger(createdAtMs)) return null;
  return { createdAtMs, address: cursor.slice(dot + 1) };
}

function toWire(suppression: Suppression): Outgoing<z.infer<typeof suppressionSchema>> {
  return {
    address: suppression.address,
    reason: suppression.reason,
    createdAt: suppression.createdAtMs,
    messageId: suppression.messageId,
    deliveryId: suppression.deliveryId,
  };
}
