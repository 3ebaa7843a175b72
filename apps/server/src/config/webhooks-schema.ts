import { z } from 'zod';
import { webhookEventTypes } from '../webhooks/webhook-event.js';
import { parseDuration } from './parse-duration.js';

const duration = z.union([z.string(), z.number()]).transform((value, context) => {
  const durationMs = parseDuration(value);
  if (durationMs === null) {
    context.addIssue({ code: 'custom', message: 'expected a duration such as "500ms", "10s", "1m"' });
    return z.NEVER;
  }
  return durationMs;
});

/**
 * `webhooks`: HTTP POSTs of delivery and capture events to other systems (a ticket, a CRM, a
 * bounce processor). Each entry names its URL and the events it wants; all are optional.
 */
const webhookSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }),
  /** Which events are posted. Default: delivered, deferred, failed and received. */
  events: z.array(z.enum(webhookEventTypes)).min(1).default(['delivered', 'deferred', 'failed', 'received']),
  /** Signs each body: X-Smtp-Signature: sha256=HMAC-SHA256(secret, "<timestamp>.<body>"). */
  secret: z.string().min(1).optional(),
  /** One request's time limit; a request that runs over counts as failed and is retried. */
  timeout: duration.default(10_000),
  /** Tries per event, the first included; then the event is logged and dropped. */
  attempts: z.number().int().min(1).max(20).default(5),
  /** The wait before the first retry; it doubles for each next one (at most 10 minutes). */
  retryDelay: duration.default(2_000),
});

export const webhooksSchema = z.array(webhookSchema).default([]);
export type WebhookConfig = z.output<typeof webhookSchema>;
