import { z } from 'zod';
import { messageSummarySchema } from './message-schemas.js';

/** What GET /api/v1/events streams: the SSE event name is `type`, its data this whole object. */
export const mailboxEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('message-stored'), message: messageSummarySchema }),
  z.object({ type: z.literal('message-updated'), id: z.string(), isRead: z.boolean() }),
  z.object({ type: z.literal('messages-read'), count: z.int().min(0) }),
  z.object({ type: z.literal('message-tagged'), id: z.string(), tags: z.array(z.string()) }),
  z.object({ type: z.literal('tags-changed') }),
  z.object({ type: z.literal('message-deleted'), ids: z.array(z.string()) }),
  z.object({ type: z.literal('messages-cleared') }),
]);
export type MailboxEvent = z.infer<typeof mailboxEventSchema>;
