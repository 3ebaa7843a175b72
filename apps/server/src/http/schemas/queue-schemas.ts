import { z } from 'zod';
import { parseDuration } from '../../config/parse-duration.js';

/**
 * The delivery queue on the wire (GET/POST /api/v1/queue…): one delivery per (message, recipient)
 * with its state, and every attempt with its transcript. Times are epoch milliseconds; replies are
 * shown as the server wrote them ("450 4.2.0 Mailbox busy").
 */

export const deliveryStatusSchema = z.enum(['queued', 'in-flight', 'held', 'delivered', 'failed', 'deleted']);

export const queueActionSchema = z.enum(['retry-now', 'hold', 'release', 'bounce', 'delete']);

export const queuedDeliverySchema = z.object({
  id: z.int(),
  messageId: z.string(),
  sender: z.string().meta({ description: 'The reverse-path; "" for <> (a DSN)' }),
  recipient: z.string(),
  domain: z.string(),
  status: deliveryStatusSchema,
  attempts: z.int().min(0),
  arrivedAt: z.int(),
  dueAt: z.int().nullable().meta({ description: 'When a queued delivery is tried next' }),
  leaseExpiresAt: z.int().nullable(),
  failureCause: z.enum(['rejected', 'expired', 'bounced']).nullable(),
  notify: z.string().nullable().meta({ description: 'RCPT NOTIFY (RFC 3461), e.g. "FAILURE,DELAY"' }),
  lastReply: z.string().nullable(),
  lastStatus: z.string().nullable(),
  actions: z.array(queueActionSchema).meta({ description: "The operators' actions its status admits now" }),
});
export type QueuedDelivery = z.infer<typeof queuedDeliverySchema>;

export const deliveryAttemptSchema = z.object({
  id: z.int(),
  deliveryId: z.int(),
  startedAt: z.int(),
  endedAt: z.int(),
  mxHost: z.string().nullable(),
  tls: z.boolean().nullable(),
  outcome: z.enum(['delivered', 'deferred', 'failed']),
  status: z.string(),
  rule: z.string().meta({ description: 'The classification rule that decided the outcome' }),
  reply: z.string().nullable(),
  error: z.string().nullable(),
  transcript: z.string().meta({ description: 'The client side of the session (C:/S: lines)' }),
});

export const queuePageSchema = z.object({
  deliveries: z.array(queuedDeliverySchema),
  nextAfter: z.int().nullable().meta({ description: 'Pass back as `after` for the next page' }),
});

export const queueSummarySchema = z.object({
  byStatus: z.record(deliveryStatusSchema, z.int().min(0)),
  nextDueAt: z.int().nullable(),
});

export const queuedMessageSchema = z.object({
  messageId: z.string(),
  deliveries: z.array(queuedDeliverySchema),
  attempts: z.array(deliveryAttemptSchema),
});

export const queueActionResultSchema = z.object({
  results: z.array(
    z.object({
      deliveryId: z.int(),
      ok: z.boolean(),
      status: deliveryStatusSchema.nullable(),
      reason: z.string().nullable().meta({ description: 'Why the action was refused' }),
    }),
  ),
});

export const bulkActionRequestSchema = z.strictObject({
  status: deliveryStatusSchema.optional().meta({ description: 'Only deliveries in this status' }),
  domain: z.string().min(1).optional().meta({ description: 'Only deliveries to this domain' }),
  all: z.literal(true).optional().meta({ description: 'Every delivery, when no filter is given' }),
});

export const bulkActionResultSchema = z.object({
  matched: z.int().min(0).meta({ description: 'Deliveries the filter selected' }),
  changed: z.int().min(0),
  refused: z
    .record(z.string(), z.int().min(1))
    .meta({ description: 'Deliveries the state machine refused, by its reason' }),
});

export const queuePurgeRequestSchema = z.strictObject({
  olderThan: z
    .string()
    .refine((text) => parseDuration(text) !== null, 'a duration such as "90m", "12h" or "7d"')
    .optional()
    .meta({
      description:
        'Only mail whose last delivery ended at least this long ago ("90m", "12h", "7d"); default: all finished mail',
    }),
});

export const queuePurgeResultSchema = z.object({
  purged: z.int().min(0).meta({ description: 'Messages removed, with their deliveries and attempts' }),
});

export type QueueStatus = z.infer<typeof deliveryStatusSchema>;
export type QueueAction = z.infer<typeof queueActionSchema>;
export type DeliveryAttempt = z.infer<typeof deliveryAttemptSchema>;
export type QueuePage = z.infer<typeof queuePageSchema>;
export type QueuedMessage = z.infer<typeof queuedMessageSchema>;
export type QueueActionResult = z.infer<typeof queueActionResultSchema>;
export type QueuePurgeResult = z.infer<typeof queuePurgeResultSchema>;
export type BulkActionResult = z.infer<typeof bulkActionResultSchema>;
