import { z } from 'zod';

/**
 * What the MX received, on the wire (GET /api/v1/inbound…): the envelope as it arrived, what each
 * recipient expanded to, the checks' findings, and per delivery where it went and how it ended.
 */
const deliveryTargetSchema = z.object({
  kind: z
    .enum(['mailbox', 'forward'])
    .meta({ description: 'A local mailbox, or forwarded to an external address' }),
  address: z.string(),
});

const checkResultSchema = z.object({
  check: z.string().meta({ description: 'e.g. spf, dkim, dmarc, greylist, dnsbl' }),
  result: z.string(),
  reason: z.string().optional(),
});

export const inboundSummarySchema = z.object({
  messageId: z.string(),
  receivedAt: z.int().meta({ description: 'Epoch milliseconds' }),
  client: z.object({
    address: z.string(),
    helo: z.string(),
    tls: z.object({ protocol: z.string(), cipher: z.string() }).nullable(),
  }),
  sender: z.string().meta({ description: 'The reverse-path; "" for <>' }),
  recipients: z.array(
    z.object({
      recipient: z.string().meta({ description: 'The RCPT as given' }),
      targets: z.array(deliveryTargetSchema),
    }),
  ),
  checks: z.array(checkResultSchema),
});

export const inboundDeliverySchema = z.object({
  deliveryId: z.int(),
  recipient: z.string().meta({ description: 'The mailbox or forward address delivered to' }),
  sender: z.string().meta({ description: 'The MAIL FROM used (an SRS0 address for forwards)' }),
  status: z.enum(['queued', 'in-flight', 'held', 'delivered', 'failed', 'deleted']),
  via: z
    .string()
    .nullable()
    .meta({ description: '"maildir", "lmtp:host:port" or the remote MX host of the latest attempt' }),
  detail: z.string().nullable().meta({ description: 'For Maildir: the file written' }),
  lastReply: z.string().nullable(),
  lastStatus: z.string().nullable(),
});

export const inboundMessageSchema = inboundSummarySchema.extend({
  deliveries: z.array(inboundDeliverySchema),
});

export const inboundPageSchema = z.object({
  messages: z.array(inboundSummarySchema),
  nextCursor: z.string().nullable().meta({ description: 'Pass back as `cursor` for the next (older) page' }),
});

export type InboundSummary = z.infer<typeof inboundSummarySchema>;
export type InboundDelivery = z.infer<typeof inboundDeliverySchema>;
export type InboundMessage = z.infer<typeof inboundMessageSchema>;
export type InboundPage = z.infer<typeof inboundPageSchema>;
