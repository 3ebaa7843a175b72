import type { Hono } from 'hono';
import type { z } from 'zod';
import type { MailboxEvent } from '../capture/mailbox-event.js';
import type { MailboxIndex } from '../capture/mailbox-index.js';
import { normalizeTag, uniqueTags } from '../capture/message-tags.js';
import type { EventBus } from '../events/event-bus.js';
import { problem, readJson } from './message-routes.js';
import type { Outgoing } from './outgoing.js';
import {
  type messageTagsSchema,
  type tagChangeResultSchema,
  type tagListSchema,
  tagRenameSchema,
  tagsUpdateSchema,
} from './schemas/index.js';

/**
 * Tags (as Mailpit's): set a message's tags, list the tags in use, rename or delete one everywhere.
 * Every change is announced on the event bus, so open web UIs show it at once.
 */
export function registerTagRoutes(
  app: Hono,
  options: { readonly mailbox: MailboxIndex; readonly events: EventBus<MailboxEvent> },
): void {
  const { mailbox, events } = options;

  app.put('/api/v1/messages/:id/tags', async (context) => {
    const body = await readJson(context, tagsUpdateSchema);
    if (!body.ok) return body.response;
    const id = context.req.param('id');
    const tags = await mailbox.setTags(id, uniqueTags(body.value.tags));
    if (tags === null) return problem(context, 404, 'No such message');
    events.publish({ type: 'message-tagged', id, tags });
    return context.json({ id, tags } satisfies Outgoing<z.infer<typeof messageTagsSchema>>);
  });

  app.get('/api/v1/tags', async (context) =>
    context.json({ tags: await mailbox.listTags() } satisfies Outgoing<z.infer<typeof tagListSchema>>),
  );

  app.put('/api/v1/tags/:name', async (context) => {
    const body = await readJson(context, tagRenameSchema);
    if (!body.ok) return body.response;
    const to = normalizeTag(body.value.name);
    if (to === null) return problem(context, 400, 'name: no letters or digits left to make a tag of');
    const messageCount = await mailbox.renameTag(context.req.param('name'), to);
    if (messageCount === 0) return problem(context, 404, 'No such tag');
    events.publish({ type: 'tags-changed' });
    return context.json({ messageCount } satisfies Outgoing<z.infer<typeof tagChangeResultSchema>>);
  });

  app.delete('/api/v1/tags/:name', async (context) => {
    const messageCount = await mailbox.deleteTag(context.req.param('name'));
    if (messageCount === 0) return problem(context, 404, 'No such tag');
    events.publish({ type: 'tags-changed' });
    return context.json({ messageCount } satisfies Outgoing<z.infer<typeof tagChangeResultSchema>>);
  });
}
