import { z } from 'zod';

/** "Name <user@example.com>", "user@example.com" or its parts. */
const sendAddressSchema = z.union([
  z.string().min(1),
  z.strictObject({ name: z.string().default(''), address: z.string().min(1) }),
]);

/**
 * A message for POST /api/v1/send: composed (MIME, RFC 2047 headers) and stored in this inbox as
 * if it had come over SMTP, from the From address to To, Cc and Bcc.
 */
export const sendRequestSchema = z
  .strictObject({
    from: sendAddressSchema,
    to: z.array(sendAddressSchema).default([]),
    cc: z.array(sendAddressSchema).default([]),
    /** Envelope recipients only: never written to the headers. */
    bcc: z.array(sendAddressSchema).default([]),
    replyTo: z.array(sendAddressSchema).default([]),
    subject: z.string().default(''),
    text: z.string().optional(),
    html: z.string().optional(),
    /** Extra headers, e.g. {"X-Campaign": "spring"}; not-ASCII values are RFC 2047-encoded. */
    headers: z.record(z.string().min(1), z.string()).default({}),
    attachments: z
      .array(
        z.strictObject({
          filename: z.string().min(1),
          contentType: z.string().min(1).optional(),
          /** The content, base64-encoded. */
          contentBase64: z.base64(),
          /** Set to reference it from the HTML as cid:… (then shown inline). */
          contentId: z.string().min(1).optional(),
        }),
      )
      .default([]),
    /** Also send it through the configured relay (config `relay`, its allow-list applies). */
    relay: z.boolean().default(false),
  })
  .refine((request) => request.to.length + request.cc.length + request.bcc.length > 0, {
    message: 'name at least one recipient in to, cc or bcc',
  });

export const sendResultSchema = z.object({
  /** The stored message's id (as in /api/v1/messages/{id}). */
  id: z.string(),
  /** Its Message-ID header, with angle brackets. */
  messageId: z.string(),
  /** With `"relay": true`: what the relay answered. */
  relay: z
    .object({
      accepted: z.array(z.string()),
      rejected: z.array(z.object({ to: z.string(), reply: z.string() })),
      reply: z.string(),
    })
    .optional(),
});

export type SendRequest = z.infer<typeof sendRequestSchema>;
