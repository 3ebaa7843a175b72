import type { Context, Hono } from 'hono';
import type { z } from 'zod';
import type { MailboxEvent } from '../capture/mailbox-event.js';
import type { MailboxIndex, MailboxMessage } from '../capture/mailbox-index.js';
import { MailboxQueryError } from '../capture/mailbox-query-error.js';
import { parseDuration } from '../config/parse-duration.js';
import type { RelaySettings } from '../config/relay-schema.js';
import type { EventBus } from '../events/event-bus.js';
import { extractAttachment } from '../mime/parse-message.js';
import type { Logger } from '../observability/logger.js';
import type { DeliveryQueue } from '../queue/delivery-queue.js';
import { isFinal } from '../queue/delivery-state.js';
import { refusedRecipients } from '../release/relay-allowlist.js';
import { relayTargetOf } from '../release/relay-target.js';
import type { ReleaseMessage, ReleaseTarget } from '../release/release-message.js';
import type { MessageRepository } from '../spool/message-repository.js';
import { hasRemoteContent, preparePreviewHtml, previewContentSecurityPolicy } from './html-preview.js';
import { MailboxChanges } from './mailbox-changes.js';
import type { Outgoing } from './outgoing.js';
import type {
  attachmentListSchema,
  deleteAllResultSchema,
  Message,
  MessagePage,
  markAllReadResultSchema,
  messagePartsSchema,
  readFlagSchema,
} from './schemas/index.js';
import { markAllReadRequestSchema, readFlagUpdateSchema, releaseRequestSchema } from './schemas/index.js';

export interface MessageRoutesOptions {
  readonly spool: MessageRepository;
  readonly mailbox: MailboxIndex;
  readonly events: EventBus<MailboxEvent>;
  readonly logger: Logger;
  readonly releaseMessage: ReleaseMessage;
  /** Hosts a message may be released to (lower case); "*" = any. */
  readonly releaseAllowedHosts: readonly string[];
  /** The ingest pipeline, so reads can wait for messages accepted but not yet parsed. */
  readonly ingest?: IngestReadiness;
  /** config `relay`: where a release without a host goes. */
  readonly relay?: RelaySettings | null;
  /** How long a read waits for pending parses before answering with `isParsed: false`. Default 2 s. */
  readonly parseWaitMs?: number;
  /**
   * MTA mode: the delivery queue. Deleting from the inbox would drop mail the queue still owes, so
   * a message with a delivery not final yet (queued, in flight, held) is not deleted (409): the
   * queue's delete action is the way, which records it. Delete-all refuses while any is.
   */
  readonly queue?: { readonly queue: Pick<DeliveryQueue, 'show' | 'countByStatus'> };
}

/** What the routes need of the ingest pipeline (IngestPipeline implements it). */
export interface IngestReadiness {
  settled(options: { readonly id?: string; readonly timeoutMs: number }): Promise<boolean>;
}

/** The longest long poll (`wait=`): beyond it, proxies and clients give up anyway. */
const maxListWaitMs = 5 * 60_000;

// Inline display is limited to raster images: anything else from a message (HTML, SVG, PDF) could
// run on the app's origin, so it is always a download.
const inlineSafeTypes = new Set([
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'image/bmp',
  'image/avif',
]);

export function registerMessageRoutes(app: Hono, options: MessageRoutesOptions): void {
  const { spool, mailbox, events } = options;
  const api = '/api/v1/messages';
  const parseWaitMs = options.parseWaitMs ?? 2000;
  const queue = options.queue?.queue;

  /**
   * Reads see what was acknowledged: the 250 comes before the parse, so a message read right after
   * it may still be parsing. Wait for it briefly; after that it is served as it is, `isParsed: false`.
   */
  const getParsed = async (id: string): Promise<MailboxMessage | null> => {
    const message = await mailbox.get(id);
    if (message === null || message.isParsed || options.ingest === undefined) return message;
    await options.ingest.settled({ id, timeoutMs: parseWaitMs });
    return mailbox.get(id);
  };

  app.get(api, async (context) => {
    const limitText = context.req.query('limit');
    const limit = limitText === undefined ? undefined : Number(limitText);
    if (limit !== undefined && !Number.isInteger(limit))
      return problem(context, 400, 'limit must be an integer');
    const search = context.req.query('search') ?? context.req.query('query');
    const cursor = context.req.query('cursor');
    const waitText = context.req.query('wait');
    const waitMs = waitText === undefined ? 0 : parseDuration(waitText);
    if (waitMs === null || waitMs > maxListWaitMs)
      return problem(context, 400, 'wait must be a duration up to 5m, e.g. 500ms, 10s or 1m');
    const query = {
      ...(search === undefined ? {} : { search }),
      ...(limit === undefined ? {} : { limit }),
      ...(cursor === undefined ? {} : { cursor }),
    };
    // Subscribed before the first look, so a message stored in between still wakes the wait.
    const changes = waitMs > 0 ? new MailboxChanges(events, context.req.raw.signal) : null;
    const deadline = performance.now() + waitMs;
    let isLastLook = changes === null;
    try {
      for (;;) {
        // Messages accepted before this request are listed and searchable once parsed (no wait when
        // nothing is pending).
        await options.ingest?.settled({ timeoutMs: parseWaitMs });
        const page = await mailbox.list(query);
        // Long poll (wait=): answer once the page holds a match, or when the wait is over.
        if (isLastLook || page.messages.length > 0) {
          const counts = await mailbox.counts();
          return context.json({
            ...page,
            unread: counts.unreadCount,
            count: counts.messageCount,
          } satisfies Outgoing<MessagePage>);
        }
        isLastLook = !(await changes?.next(deadline - performance.now()));
      }
    } catch (error) {
      if (error instanceof MailboxQueryError) return problem(context, 400, error.message);
      throw error;
    } finally {
      changes?.close();
    }
  });

  app.delete(api, async (context) => {
    if (queue !== undefined) {
      const { queued, 'in-flight': inFlight, held } = await queue.countByStatus();
      const owed = queued + inFlight + held;
      if (owed > 0)
        return problem(
          context,
          409,
          `${owed} deliveries are still in the queue (queued, in flight or held): delete or bounce them in the queue first, or delete only the finished mail (POST /api/v1/queue/purge)`,
        );
    }
    const deleted = await mailbox.deleteAll();
    events.publish({ type: 'messages-cleared' });
    return context.json({ deleted } satisfies Outgoing<z.infer<typeof deleteAllResultSchema>>);
  });

  app.post(`${api}/read`, async (context) => {
    // A JSON body, though empty: an HTML form cannot send one cross-site (no CORS preflight).
    const body = await readJson(context, markAllReadRequestSchema);
    if (!body.ok) return body.response;
    const count = await mailbox.markAllRead();
    events.publish({ type: 'messages-read', count });
    return context.json({ updated: count } satisfies Outgoing<z.infer<typeof markAllReadResultSchema>>);
  });

  // Reading has no side effect (an <img> on any page can send a GET): opening a message in the UI
  // marks it read with an explicit PATCH.
  app.get(`${api}/:id`, async (context) => {
    const message = await getParsed(context.req.param('id'));
    if (message === null) return notFound(context);
    return context.json(toMessageJson(message));
  });

  app.patch(`${api}/:id`, async (context) => {
    const body = await readJson(context, readFlagUpdateSchema);
    if (!body.ok) return body.response;
    const id = context.req.param('id');
    const isRead = await mailbox.setRead(id, body.value.isRead);
    if (isRead === null) return notFound(context);
    events.publish({ type: 'message-updated', id, isRead });
    return context.json({ id, isRead } satisfies Outgoing<z.infer<typeof readFlagSchema>>);
  });

  app.delete(`${api}/:id`, async (context) => {
    const id = context.req.param('id');
    const owed = (await queue?.show(id))?.deliveries.filter((delivery) => !isFinal(delivery.state)) ?? [];
    if (owed.length > 0)
      return problem(
        context,
        409,
        `The message is still in the delivery queue (${owed.length} of its deliveries): delete or bounce it in the queue first`,
      );
    if (!(await mailbox.delete(id))) return notFound(context);
    events.publish({ type: 'message-deleted', ids: [id] });
    return context.body(null, 204);
  });

  app.get(`${api}/:id/raw`, async (context) => {
    const id = context.req.param('id');
    const raw = await spool.getRaw(id);
    if (raw === null) return notFound(context);
    const isDownload = context.req.query('download') !== undefined;
    // text/plain for viewing: the browser shows it and never renders it as HTML.
    context.header('Content-Type', isDownload ? 'message/rfc822' : 'text/plain; charset=utf-8');
    if (isDownload) context.header('Content-Disposition', `attachment; filename="${safeFilename(id)}.eml"`);
    context.header('Content-Length', String(raw.byteLength));
    return context.body(raw as Uint8Array<ArrayBuffer>);
  });

  app.get(`${api}/:id/parts`, async (context) => {
    const message = await getParsed(context.req.param('id'));
    if (message === null) return notFound(context);
    return context.json({
      text: message.text,
      html: message.html,
      hasRemoteContent: message.html === null ? false : hasRemoteContent(message.html),
      attachments: message.attachments,
    } satisfies Outgoing<z.infer<typeof messagePartsSchema>>);
  });

  app.get(`${api}/:id/html`, async (context) => {
    const message = await getParsed(context.req.param('id'));
    if (message === null) return notFound(context);
    const allowRemote = context.req.query('remote') === '1';
    context.header('Content-Security-Policy', previewContentSecurityPolicy(allowRemote));
    context.header('Cache-Control', 'no-store');
    const html =
      message.html ??
      `<pre style="white-space:pre-wrap;font:14px/1.4 ui-monospace,monospace">${escapeHtml(message.text ?? '')}</pre>`;
    return context.html(
      preparePreviewHtml(html, { messageId: message.id, attachments: message.attachments }),
    );
  });

  app.get(`${api}/:id/attachments`, async (context) => {
    const message = await getParsed(context.req.param('id'));
    if (message === null) return notFound(context);
    return context.json({ attachments: message.attachments } satisfies Outgoing<
      z.infer<typeof attachmentListSchema>
    >);
  });

  app.get(`${api}/:id/attachments/:index`, async (context) => {
    const id = context.req.param('id');
    const index = Number(context.req.param('index'));
    const raw = await spool.getRaw(id);
    if (raw === null || !Number.isInteger(index) || index < 0) return notFound(context);
    const attachment = await extractAttachment(raw, index);
    if (attachment === null) return notFound(context);
    const contentType = attachment.metadata.contentType.toLowerCase();
    const isInline = context.req.query('inline') === '1' && inlineSafeTypes.has(contentType);
    const filename = attachment.metadata.filename ?? `attachment-${index}`;
    context.header('Content-Type', isInline ? contentType : 'application/octet-stream');
    context.header(
      'Content-Disposition',
      `${isInline ? 'inline' : 'attachment'}; filename="${safeFilename(filename)}"; filename*=UTF-8''${encodeURIComponent(filename)}`,
    );
    context.header('Content-Security-Policy', "default-src 'none'; sandbox");
    context.header('Content-Length', String(attachment.content.byteLength));
    return context.body(attachment.content as Uint8Array<ArrayBuffer>);
  });

  app.post(`${api}/:id/release`, async (context) => {
    const body = await readJson(context, releaseRequestSchema);
    if (!body.ok) return body.response;
    const message = await spool.getReceived(context.req.param('id'));
    if (message === null) return notFound(context);
    const request = body.value;
    const to = request.to ?? message.envelope.to;
    let target: ReleaseTarget;
    if (request.host === undefined) {
      const relay = options.relay ?? null;
      if (relay === null)
        return problem(context, 400, 'host: required, since no relay is configured (config relay)');
      const refused = refusedRecipients(to, relay.allowedRecipients);
      if (refused.length > 0)
        return problem(context, 403, `Not in relay.allowedRecipients: ${refused.join(', ')}`);
      target = relayTargetOf(relay, request.from ?? message.envelope.from, to);
    } else {
      const allowed = options.releaseAllowedHosts;
      const targetHost = request.host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
      if (!allowed.includes('*') && !allowed.includes(targetHost)) {
        return problem(context, 403, `Release to ${request.host} is not allowed (release.allowedHosts)`);
      }
      target = {
        host: request.host,
        port: request.port,
        security: request.security,
        allowInvalidCertificate: request.allowInvalidCertificate,
        username: request.username,
        password: request.password,
        from: request.from ?? message.envelope.from,
        to,
        timeoutMs: request.timeoutMs,
      };
    }
    try {
      const result = await options.releaseMessage(message.raw, target);
      options.logger.info({ id: message.id, host: target.host, port: target.port }, 'message released');
      return context.json(result);
    } catch (error) {
      options.logger.warn({ id: message.id, err: error }, 'release failed');
      return problem(context, 502, `Release failed: ${(error as Error).message}`);
    }
  });
}

/** The wire form of a message (http/schemas): the compiler checks the mailbox's shape against it. */
function toMessageJson(message: MailboxMessage): Outgoing<Message> {
  return { ...message, hasRemoteContent: message.html === null ? false : hasRemoteContent(message.html) };
}

type JsonResult<T> = { ok: true; value: T } | { ok: false; response: Response };

/** JSON bodies only: requiring the content type also stops cross-site form posts (no CORS preflight). */
export async function readJson<T>(context: Context, schema: z.ZodType<T, unknown>): Promise<JsonResult<T>> {
  if (!(context.req.header('content-type') ?? '').toLowerCase().startsWith('application/json')) {
    return { ok: false, response: problem(context, 415, 'Send the body as application/json') };
  }
  let document: unknown;
  try {
    document = await context.req.json();
  } catch {
    return { ok: false, response: problem(context, 400, 'The body is not valid JSON') };
  }
  const result = schema.safeParse(document);
  if (!result.success) {
    const detail = result.error.issues
      .map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`)
      .join('; ');
    return { ok: false, response: problem(context, 400, detail) };
  }
  return { ok: true, value: result.data };
}

export function problem(
  context: Context,
  status: 400 | 403 | 404 | 409 | 413 | 415 | 500 | 502,
  detail: string,
): Response {
  return context.json({ error: detail }, status);
}

function notFound(context: Context): Response {
  return problem(context, 404, 'No such message');
}

function safeFilename(name: string): string {
  return name.replace(/[^\w.\- ]/g, '_').slice(0, 200);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}
