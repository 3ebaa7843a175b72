import { compose } from '@smtp/client';
import { SmtpUsageError } from '@smtp/protocol';
import type { Hono } from 'hono';
import type { z } from 'zod';
import type { MessageSource } from '../spool/read-message-source.js';
import { problem, readJson } from './message-routes.js';
import type { Outgoing } from './outgoing.js';
import { type SendRequest, sendRequestSchema, type sendResultSchema } from './schemas/index.js';

/** Stores a composed message in the inbox as SMTP would (the ingest pipeline); resolves with its id. */
export type StoreComposed = (message: {
  readonly from: string;
  readonly to: readonly string[];
  readonly source: MessageSource;
}) => Promise<string>;

/**
 * POST /api/v1/send (as Mailpit's): compose a message from JSON and store it in this inbox, for
 * tests that need mail in the inbox without an SMTP client. Composing is @smtp/client's compose().
 */
export function registerSendRoutes(app: Hono, storeComposed: StoreComposed): void {
  app.post('/api/v1/send', async (context) => {
    const body = await readJson(context, sendRequestSchema);
    if (!body.ok) return body.response;
    let composed: ReturnType<typeof compose>;
    try {
      composed = compose(composeOptionsOf(body.value));
    } catch (error) {
      if (error instanceof SmtpUsageError) return problem(context, 400, error.message);
      throw error;
    }
    const id = await storeComposed({ from: composed.from, to: composed.to, source: composed.message });
    return context.json({ id, messageId: composed.messageId } satisfies Outgoing<
      z.infer<typeof sendResultSchema>
    >);
  });
}

function composeOptionsOf(request: SendRequest): Parameters<typeof compose>[0] {
  return {
    from: request.from,
    to: request.to,
    cc: request.cc,
    bcc: request.bcc,
    replyTo: request.replyTo,
    subject: request.subject,
    ...(request.text === undefined ? {} : { text: request.text }),
    ...(request.html === undefined ? {} : { html: request.html }),
    headers: request.headers,
    attachments: request.attachments.map((attachment) => ({
      filename: attachment.filename,
      content: Buffer.from(attachment.contentBase64, 'base64'),
      ...(attachment.contentType === undefined ? {} : { contentType: attachment.contentType }),
      ...(attachment.contentId === undefined
        ? {}
        : { cid: attachment.contentId, contentDisposition: 'inline' as const }),
    })),
  };
}
