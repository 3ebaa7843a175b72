import { createClient } from '@smtp/client';
import { type PostgresInstance, startPostgres } from '@smtp/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp } from './support/app-harness.js';
import { composeRaw } from './support/messages.js';
import { openSseStream } from './support/sse-reader.js';

let postgres: PostgresInstance | null = null;
afterAll(async () => {
  await postgres?.stop();
});

/** The storage config of each capture store: SQLite in the data directory, or a fresh PostgreSQL database. */
const storages = {
  sqlite: async () => ({}),
  postgres: async () => {
    postgres ??= await startPostgres();
    return { url: await postgres.createDatabase(`capture_tags_${process.pid}`) };
  },
} as const;

/** Tags: the X-Tags header (and a renamed one), tag rules, the API, search and the event stream. */
describe.each(Object.keys(storages) as (keyof typeof storages)[])(
  'capture tags over real SMTP and HTTP on %s',
  (kind) => {
    let harness: Awaited<ReturnType<typeof startTestApp>>;

    beforeAll(async () => {
      harness = await startTestApp({
        storage: await storages[kind](),
        tags: {
          header: 'X-Labels',
          rules: [
            { recipient: '@billing.example', tags: ['billing'] },
            { sender: 'alerts@', subject: 'down', tags: ['outage', 'Urgent'] },
          ],
        },
      });
    }, 120_000);
    afterAll(() => harness.stop());

    async function send(raw: string, options: { from?: string; to?: string[] } = {}): Promise<string> {
      const client = createClient({
        host: '127.0.0.1',
        port: harness.smtpPort,
        starttls: 'never',
        pool: false,
      });
      try {
        const result = await client.send({
          from: options.from ?? 'app@example.com',
          to: options.to ?? ['user@example.net'],
          message: raw,
        });
        const id = /Queued as (\w+)/.exec(result.reply.lines.join(' '))?.[1];
        if (id === undefined) throw new Error(`no id in ${result.reply.lines.join(' ')}`);
        return id;
      } finally {
        await client.close();
      }
    }

    const getJson = async (path: string, init?: RequestInit) => {
      const response = await fetch(harness.baseUrl + path, init);
      // biome-ignore lint/suspicious/noExplicitAny: assertions read JSON bodies field by field
      return { status: response.status, body: (await response.json()) as Record<string, any> };
    };
    const putJson = (path: string, body: unknown) =>
      getJson(path, {
        method: 'PUT',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });

    it('tags from the configured header and from rules, shown in the list, the message and the SSE event', async () => {
      const stream = await openSseStream(`${harness.baseUrl}/api/v1/events`);
      try {
        const id = await send(
          composeRaw({
            subject: 'Site down again',
            extraHeaders: ['X-Labels: newsletter, Weekly ,newsletter', 'X-Tags: ignored-here'],
          }),
          { from: 'alerts@monitor.example', to: ['team@billing.example'] },
        );
        const stored = await stream.next(
          (event) =>
            event.event === 'message-stored' && (event.data as { message: { id: string } }).message.id === id,
        );
        expect((stored.data as { message: { tags: string[] } }).message.tags).toEqual([
          'billing',
          'newsletter',
          'outage',
          'Urgent',
          'Weekly',
        ]);
        const message = await getJson(`/api/v1/messages/${id}`);
        expect(message.body.tags).toEqual(['billing', 'newsletter', 'outage', 'Urgent', 'Weekly']);
        const list = await getJson('/api/v1/messages?search=tag:urgent');
        expect(list.body.messages.map((summary: { id: string }) => summary.id)).toEqual([id]);
      } finally {
        stream.close();
      }
    });

    it('an encoded header value is decoded, and a message without a match gets no tags', async () => {
      const tagged = await send(
        composeRaw({ subject: 'encoded', extraHeaders: ['X-Labels: =?UTF-8?Q?caf=C3=A9?=, b2b'] }),
      );
      const plain = await send(composeRaw({ subject: 'plain' }));
      expect((await getJson(`/api/v1/messages/${tagged}`)).body.tags).toEqual(['b2b', 'café']);
      expect((await getJson(`/api/v1/messages/${plain}`)).body.tags).toEqual([]);
    });

    it('sets, lists, searches, renames and deletes tags through the API', async () => {
      const first = await send(composeRaw({ subject: 'api one' }));
      const second = await send(composeRaw({ subject: 'api two' }));
      const stream = await openSseStream(`${harness.baseUrl}/api/v1/events`);
      try {
        const set = await putJson(`/api/v1/messages/${first}/tags`, {
          tags: ['Signup', 'qa run', 'signup', ' '],
        });
        expect(set).toEqual({ status: 200, body: { id: first, tags: ['qa run', 'Signup'] } });
        const event = await stream.next((candidate) => candidate.event === 'message-tagged');
        expect(event.data).toEqual({ type: 'message-tagged', id: first, tags: ['qa run', 'Signup'] });
      } finally {
        stream.close();
      }
      await putJson(`/api/v1/messages/${second}/tags`, { tags: ['signup'] });
      expect((await putJson('/api/v1/messages/nope/tags', { tags: ['x'] })).status).toBe(404);
      expect((await putJson(`/api/v1/messages/${first}/tags`, { tags: 'x' })).status).toBe(400);

      const tags = await getJson('/api/v1/tags');
      expect(tags.body.tags).toContainEqual({ name: 'Signup', messageCount: 2 });
      expect(tags.body.tags).toContainEqual({ name: 'qa run', messageCount: 1 });

      const quoted = await getJson(`/api/v1/messages?search=${encodeURIComponent('tag:"qa run"')}`);
      expect(quoted.body.messages.map((summary: { id: string }) => summary.id)).toEqual([first]);
      const negated = await getJson(`/api/v1/messages?search=${encodeURIComponent('api -tag:"qa run"')}`);
      expect(negated.body.messages.map((summary: { id: string }) => summary.id)).toEqual([second]);

      // Renaming onto an existing tag merges: the first message has both and keeps one.
      expect(await putJson('/api/v1/tags/qa%20run', { name: 'signup' })).toEqual({
        status: 200,
        body: { messageCount: 1 },
      });
      expect((await getJson(`/api/v1/messages/${first}`)).body.tags).toEqual(['Signup']);
      expect((await putJson('/api/v1/tags/Signup', { name: 'onboarding' })).body).toEqual({
        messageCount: 2,
      });
      expect((await getJson(`/api/v1/messages/${second}`)).body.tags).toEqual(['onboarding']);

      const deleted = await getJson('/api/v1/tags/ONBOARDING', { method: 'DELETE' });
      expect(deleted).toEqual({ status: 200, body: { messageCount: 2 } });
      expect((await getJson(`/api/v1/messages/${first}`)).body.tags).toEqual([]);
      expect((await getJson('/api/v1/tags/onboarding', { method: 'DELETE' })).status).toBe(404);
    });

    it('deleting messages removes their tags, so a reused row never inherits them', async () => {
      const id = await send(composeRaw({ subject: 'doomed', extraHeaders: ['X-Labels: doomed'] }));
      expect((await getJson(`/api/v1/messages/${id}`)).body.tags).toEqual(['doomed']);
      await fetch(`${harness.baseUrl}/api/v1/messages`, { method: 'DELETE' });
      const tags = await getJson('/api/v1/tags');
      expect(tags.body.tags).toEqual([]);
      const fresh = await send(composeRaw({ subject: 'fresh' }));
      expect((await getJson(`/api/v1/messages/${fresh}`)).body.tags).toEqual([]);
    });

    it('documents tags, chaos and the message checks in the OpenAPI document', async () => {
      const openapi = (await getJson('/api/v1/openapi.json')).body;
      expect(Object.keys(openapi.paths)).toEqual(
        expect.arrayContaining([
          '/api/v1/messages/{id}/tags',
          '/api/v1/tags',
          '/api/v1/tags/{name}',
          '/api/v1/chaos',
          '/api/v1/messages/{id}/list-unsubscribe',
          '/api/v1/messages/{id}/html-check',
          '/api/v1/messages/{id}/link-check',
        ]),
      );
      const references = new Set<string>(JSON.stringify(openapi).match(/#\/components\/schemas\/\w+/g));
      for (const reference of references)
        expect(Object.keys(openapi.components.schemas)).toContain(reference.split('/').at(-1));
      expect(Object.keys(openapi.components.schemas.MessageSummary.properties)).toContain('tags');
      expect(openapi.components.schemas.ChaosSettings.properties.rcpt.properties.delayMs).toBeDefined();
    });
  },
);
