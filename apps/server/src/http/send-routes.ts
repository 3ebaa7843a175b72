import { compose } from '@smtp/client';
import { SmtpUsageError } from '@smtp/protocol';
import type { Hono } from 'hono';
import type { z } from 'zod';
import { refusedRecipients } from '../release/relay-allowlist.js';
import type { ReleaseResult } from '../release/release-message.js';
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

/** POST /api/v1/send's `"relay": true`: the configured relay's allow-list, and the release of a stored message. */
export interface SendRelay {
  readonly allowedRecipients: readonly string[];
  relayStored(id: string, from: string, to: readonly string[]): Promise<ReleaseResult>;
}

/**
 * POST /api/v1/send (as Mailpit's): compose a message from JSON and store it in this inbox, for
 * tests that need mail in the inbox without an SMTP client. Composing is @smtp/client's compose().
 */
export function registerSendRoutes(
  app: Hono,
  storeComposed: StoreComposed,
  relay: SendRelay | null = null,
): void {
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
    if (body.value.relay) {
      // Checked before storing: a refused send leaves nothing behind.
      if (relay === null) return problem(context, 400, 'relay: no relay is configured (config relay)');
      const refused = refusedRecipients(composed.to, relay.allowedRecipients);
      if (refused.length > 0)
        return problem(context, 403, `Not in relay.allowedRecipients: ${refused.join(', ')}`);
    }
    const id = await storeComposed({ from: composed.from, to: composed.to, source: composed.message });
    if (!body.value.relay || relay === null)
      return context.json({ id, messageId: composed.messageId } satisfies Outgoing<
        z.infer<typeof sendResultSchema>
      >);
    try {
      const relayed = await relay.relayStored(id, composed.from, composed.to);
      return context.json({ id, messageId: composed.messageId, relay: relayed } satisfies Outgoing<
        z.infer<typeof sendResultSchema>
      >);
    } catch (error) {
      return problem(context, 502, `Stored as ${id}, but the relay failed: ${(error as Error).message}`);
    }
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
