import type { Hono } from 'hono';
import type { MailboxIndex, MailboxMessage } from '../capture/mailbox-index.js';
import { checkHtmlCompatibility } from '../checks/html-compatibility-check.js';
import { checkListUnsubscribe } from '../checks/list-unsubscribe-check.js';
import type { IngestReadiness } from './message-routes.js';
import { problem } from './message-routes.js';
import type { Outgoing } from './outgoing.js';
import type { HtmlCheckWire, ListUnsubscribeReportWire } from './schemas/check-schemas.js';

export interface CheckRoutesOptions {
  readonly mailbox: MailboxIndex;
  readonly ingest?: IngestReadiness;
}

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
}
