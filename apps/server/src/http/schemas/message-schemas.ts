import { receivedWithProtocols } from '@smtp/protocol';
import { z } from 'zod';

/**
 * The message resource on the wire: what GET /api/v1/messages and /messages/{id} answer. The
 * OpenAPI document is generated from these (http/openapi-document.ts) and the web UI's types are
 * inferred from them, so the three cannot drift apart.
 */

export const addressSchema = z.object({ name: z.string(), address: z.string() });
export type Address = z.infer<typeof addressSchema>;

export const attachmentSchema = z.object({
  index: z.int().min(0).meta({ description: 'Position among the attachments: the download key' }),
  filename: z.string().nullable(),
  contentType: z.string(),
  disposition: z.enum(['attachment', 'inline']).nullable(),
  contentId: z.string().nullable(),
  sizeBytes: z.int().min(0),
});
export type Attachment = z.infer<typeof attachmentSchema>;

export const attachmentListSchema = z.object({ attachments: z.array(attachmentSchema) });

export const envelopeSchema = z.object({
  from: z.string().meta({ description: 'The reverse-path; "" for the null sender <>' }),
  to: z.array(z.string()),
  mailParameters: z.record(z.string(), z.string()).meta({ description: 'ESMTP parameters of MAIL FROM' }),
  rcptParameters: z.array(z.record(z.string(), z.string())).meta({
    description:
      'ESMTP parameters of each RCPT TO (NOTIFY, ORCPT, …), aligned with to; {} for a recipient without any and for messages stored before they were kept',
  }),
});

export const smtpSessionSchema = z.object({
  remoteAddress: z.string(),
  remotePort: z.int(),
  localAddress: z.string(),
  localPort: z.int(),
  helo: z.string().meta({ description: 'The EHLO/HELO name the client gave' }),
  /** The Received line's WITH keyword (RFC 3848, RFC 6531 §3.7.3). */
  protocol: z.enum(receivedWithProtocols),
  tls: z.object({ protocol: z.string(), cipher: z.string() }).nullable(),
  authenticatedUser: z.string().nullable(),
});

export const messageSummarySchema = z.object({
  id: z.string().meta({ description: 'Message id (as in the 250 reply)' }),
  receivedAtMs: z.int(),
  subject: z.string(),
  from: addressSchema.nullable(),
  to: z.array(addressSchema),
  envelopeFrom: z.string(),
  envelopeTo: z.array(z.string()),
  sizeBytes: z.int().min(0),
  isRead: z.boolean(),
  attachmentCount: z.int().min(0),
  snippet: z.string(),
  isParsed: z.boolean().meta({
    description:
      'false while the message is committed but not parsed yet (just after its 250): subject, addresses, snippet and attachments are empty and it is not searchable. Reads wait up to 2 s for pending parses first.',
  }),
  tags: z.array(z.string()).meta({
    description:
      'Its tags, sorted: from the X-Tags header (tags.header), tag rules, or PUT /messages/{id}/tags',
  }),
});
export type MessageSummary = z.infer<typeof messageSummarySchema>;

export const messagePageSchema = z.object({
  messages: z.array(messageSummarySchema),
  nextCursor: z.string().nullable().meta({ description: 'Pass back as cursor for the next (older) page' }),
  total: z.int().min(0).meta({ description: 'Messages matching; for searches capped (then isTotalCapped)' }),
  isTotalCapped: z.boolean(),
  unread: z.int().min(0),
  count: z.int().min(0),
});
export type MessagePage = z.infer<typeof messagePageSchema>;

/** GET /messages/{id}: the whole message, and whether its HTML would load remote content. */
export const messageSchema = messageSummarySchema.extend({
  envelope: envelopeSchema,
  session: smtpSessionSchema.nullable(),
  cc: z.array(addressSchema),
  bcc: z.array(addressSchema),
  replyTo: z.array(addressSchema),
  messageIdHeader: z.string().nullable(),
  dateHeaderMs: z.int().nullable(),
  headers: z.array(z.object({ name: z.string(), value: z.string() })),
  text: z.string().nullable(),
  html: z.string().nullable(),
  hasRemoteContent: z.boolean(),
  attachments: z.array(attachmentSchema),
  related: z
    .object({
      dsnFor: z.string().nullable().meta({
        description: 'For a delivery report (DSN) this server captured: the id of the message it reports on',
      }),
      dsnReports: z.array(z.string()).meta({
        description: 'Ids of the delivery reports (NOTIFY=SUCCESS, RFC 3461) captured for this message',
      }),
    })
    .meta({ description: 'Links between a message and its delivery status notifications' }),
});
export type Message = z.infer<typeof messageSchema>;

export const messagePartsSchema = z.object({
  text: z.string().nullable(),
  html: z.string().nullable(),
  hasRemoteContent: z.boolean(),
  attachments: z.array(attachmentSchema),
});
