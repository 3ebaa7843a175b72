import { z } from 'zod';
import { deliveryStatusSchema } from './queue-schemas.js';

/**
 * What GET /api/v1/queue/events streams and webhooks post: the SSE event name is `type`, its data
 * this whole object. Times are epoch milliseconds; replies as the server wrote them.
 */

const attemptSummarySchema = z.object({
  startedAt: z.int(),
  endedAt: z.int(),
  mxHost: z.string().nullable(),
  tls: z.boolean().nullable(),
  status: z.string().meta({ description: 'Enhanced status code (RFC 3463)' }),
  reply: z.string().nullable(),
  error: z.string().nullable().meta({ description: 'Why no reply decided it (refused, timeout)' }),
});

const deliveryChange = {
  messageId: z.string(),
  deliveryId: z.int(),
  recipient: z.string(),
  domain: z.string(),
  status: deliveryStatusSchema.meta({ description: "The delivery's status after the event" }),
  at: z.int(),
};

export const queueEventSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('queued'),
    messageId: z.string(),
    sender: z.string(),
    recipients: z.array(z.string()),
    at: z.int(),
  }),
  z.object({
    type: z.literal('attempt-started'),
    messageId: z.string(),
    domain: z.string(),
    deliveries: z.array(z.object({ deliveryId: z.int(), recipient: z.string() })),
    at: z.int(),
  }),
  z.object({
    type: z.enum(['delivered', 'deferred', 'failed']),
    ...deliveryChange,
    attempt: attemptSummarySchema,
  }),
  z.object({ type: z.enum(['held', 'released', 'retried', 'bounced', 'deleted']), ...deliveryChange }),
  z.object({
    type: z.literal('report-queued'),
    reportId: z.string().meta({ description: 'The DSN, queued as a message of its own' }),
    originalMessageId: z.string(),
    action: z.enum(['failed', 'delayed', 'relayed']),
    recipients: z.array(z.string()),
  }),
  z.object({
    type: z.literal('purged'),
    messageIds: z.array(z.string()).meta({ description: 'Removed with their deliveries and attempts' }),
    by: z.enum(['retention', 'operator']),
    at: z.int(),
  }),
]);
export type QueueEvent = z.infer<typeof queueEventSchema>;
