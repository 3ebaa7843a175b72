import type { Hono } from 'hono';
import type { MailboxIndex, MailboxMessage } from '../capture/mailbox-index.js';
import { checkHtmlCompatibility } from '../checks/html-compatibility-check.js';
import { checkLinks } from '../checks/link-checker.js';
import { checkListUnsubscribe } from '../checks/list-unsubscribe-check.js';
import { linksOf } from '../checks/message-links.js';
import type { LinkCheckSettings } from '../config/link-check-schema.js';
import type { IngestReadiness } from './message-routes.js';
import { problem } from './message-routes.js';
import type { Outgoing } from './outgoing.js';
import type { HtmlCheckWire, LinkCheckWire, ListUnsubscribeReportWire } from './schemas/check-schemas.js';

export interface CheckRoutesOptions {
  readonly mailbox: MailboxIndex;
  readonly ingest?: IngestReadiness;
  /** config `linkCheck`; default: private addresses refused, 5 s, 5 redirects, 100 links. */
  readonly linkCheck?: LinkCheckSettings;
}

const defaultLinkCheck: LinkCheckSettings = {
  allowPrivateAddresses: false,
  timeoutMs: 5000,
  maxRedirects: 5,
  maxLinks: 100,
};

/** Checks of one captured message, computed when asked (nothing is stored). */
export function registerCheckRoutes(app: Hono, options: CheckRoutesOptions): void {
  const { mailbox } = options;
  /** As the message routes read: a message just accepted may still be parsing; wait briefly. */
  const getParsed = async (id: string): Promise<MailboxMessage | null> => {
    const message = await mailbox.get(id);
    if (message === null || message.isParsed || options.ingest === undefined) return message;
    await options.ingest.settled({ id, timeoutMs: 2000 });
    return mailbox.get(id);
  };

  app.get('/api/v1/messages/:id/list-unsubscribe', async (context) => {
    const message = await getParsed(context.req.param('id'));
    if (message === null) return problem(context, 404, 'No such message');
    return context.json(checkListUnsubscribe(message.headers) satisfies Outgoing<ListUnsubscribeReportWire>);
  });

  app.get('/api/v1/messages/:id/html-check', async (context) => {
    const message = await getParsed(context.req.param('id'));
    if (message === null) return problem(context, 404, 'No such message');
    const report = await checkHtmlCompatibility(message.html ?? '');
    return context.json({ hasHtml: message.html !== null, ...report } satisfies Outgoing<HtmlCheckWire>);
  });

  // Links are fetched only when asked (follow=true): opening a message never makes a request.
  app.get('/api/v1/messages/:id/link-check', async (context) => {
    const message = await getParsed(context.req.param('id'));
    if (message === null) return problem(context, 404, 'No such message');
    const settings = options.linkCheck ?? defaultLinkCheck;
    const links = linksOf(message).slice(0, settings.maxLinks);
    const isFollowed = context.req.query('follow') === 'true';
    if (!isFollowed) {
      return context.json({
        isFollowed,
        links: links.map((link) => ({
          ...link,
          status: null,
          isOk: null,
          redirects: 0,
          finalUrl: link.url,
          error: null,
        })),
      } satisfies Outgoing<LinkCheckWire>);
    }
    const statuses = await checkLinks(
      links.map((link) => link.url),
      {
        timeoutMs: settings.timeoutMs,
        maxRedirects: settings.maxRedirects,
        allowPrivateAddresses: settings.allowPrivateAddresses,
      },
    );
    return context.json({
      isFollowed,
      links: links.map((link, index) => {
        const { url: _url, ...status } = statuses[index] as (typeof statuses)[number];
        return { ...link, ...status };
      }),
    } satisfies Outgoing<LinkCheckWire>);
  });
}
