import { join } from 'node:path';
import { Hono } from 'hono';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openApiDocument } from '../src/http/openapi-document.js';
import { registerQueueRoutes } from '../src/http/queue-routes.js';
import { queuedMessageSchema, queuePageSchema } from '../src/http/schemas/queue-schemas.js';
import { parseMessage } from '../src/mime/parse-message.js';
import type { DeliveryRecord, OperatorAction } from '../src/queue/delivery-queue.js';
import { deliveryRows } from '../src/queue/router.js';
import { SqliteStorage } from '../src/sqlite/sqlite-storage.js';
import { temporaryDirectory } from './support/messages.js';

describe('/api/v1/queue', () => {
  let directory: ReturnType<typeof temporaryDirectory>;
  let storage: SqliteStorage;
  let app: Hono;
  const actions: [OperatorAction, number[]][] = [];
  const purged: string[][] = [];
  const now = 1_700_000_000_000;

  beforeEach(async () => {
    directory = temporaryDirectory();
    storage = new SqliteStorage({ parse: parseMessage, path: join(directory.path, 'messages.sqlite') });
    app = new Hono();
    registerQueueRoutes(app, {
      queue: storage.queue,
      now: () => now + 1,
      onAction: (action, deliveries: readonly DeliveryRecord[]) =>
        actions.push([action, deliveries.map((delivery) => delivery.id)]),
      onPurged: (ids) => purged.push([...ids]),
    });
    const envelope = {
      from: 'a@local.test',
      to: ['b@remote.test', 'c@remote.test'],
      mailParameters: {},
      rcptParameters: [{}, {}],
    };
    await storage.spool.receive(new TextEncoder().encode('Subject: q\r\n\r\nx\r\n'), {
      id: 'MSG1',
      receivedAtMs: now,
      envelope,
      session: null,
      companionRows: deliveryRows({
        messageId: 'MSG1',
        receivedAtMs: now,
        envelope,
        postmasterDomain: 'mta.test',
      }),
    });
  });
  afterEach(async () => {
    await storage.close();
    directory.remove();
    actions.length = 0;
    purged.length = 0;
  });

  it('lists deliveries with keyset paging, and refuses a bad query', async () => {
    const first = queuePageSchema.parse(await (await app.request('/api/v1/queue?limit=1')).json());
    expect(first.deliveries.map((delivery) => [delivery.recipient, delivery.status])).toEqual([
      ['b@remote.test', 'queued'],
    ]);
    const second = queuePageSchema.parse(
      await (await app.request(`/api/v1/queue?limit=1&after=${first.nextAfter}`)).json(),
    );
    expect(second.deliveries[0]?.recipient).toBe('c@remote.test');
    expect((await app.request('/api/v1/queue?status=lost')).status).toBe(400);
    const summary = await (await app.request('/api/v1/queue/summary')).json();
    expect(summary).toMatchObject({ byStatus: { queued: 2, held: 0 }, nextDueAt: now });
  });

  it('holds a whole message, refuses what the state machine refuses (409), and shows the message', async () => {
    const held = await app.request('/api/v1/queue/messages/MSG1/hold', { method: 'POST' });
    expect(held.status).toBe(200);
    expect(actions).toEqual([['hold', [1, 2]]]);
    const again = await app.request('/api/v1/queue/deliveries/1/hold', { method: 'POST' });
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({
      results: [{ ok: false, reason: 'hold is not possible for a held delivery' }],
    });
    expect((await app.request('/api/v1/queue/deliveries/1/explode', { method: 'POST' })).status).toBe(404);
    expect((await app.request('/api/v1/queue/deliveries/99/hold', { method: 'POST' })).status).toBe(404);
    const shown = queuedMessageSchema.parse(await (await app.request('/api/v1/queue/messages/MSG1')).json());
    expect(shown.deliveries.map((delivery) => delivery.status)).toEqual(['held', 'held']);
    expect((await app.request('/api/v1/queue/messages/NOPE')).status).toBe(404);
  });

  it('acts on every delivery a filter selects, page after page, and counts what the state machine refused', async () => {
    const recipients = Array.from({ length: 501 }, (_, index) => `r${index}@big.test`);
    const envelope = {
      from: 'a@local.test',
      to: recipients,
      mailParameters: {},
      rcptParameters: recipients.map(() => ({})),
    };
    await storage.spool.receive(new TextEncoder().encode('Subject: big\r\n\r\nx\r\n'), {
      id: 'BIG',
      receivedAtMs: now,
      envelope,
      session: null,
      companionRows: deliveryRows({
        messageId: 'BIG',
        receivedAtMs: now,
        envelope,
        postmasterDomain: 'mta.test',
      }),
    });
    const bulk = (action: string, body: string) =>
      app.request(`/api/v1/queue/actions/${action}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });

    expect(await (await bulk('hold', '{"domain": "big.test"}')).json()).toEqual({
      matched: 501,
      changed: 501,
      refused: {},
    });
    // One notice per page of changes, 500 and 1: the scheduler and the event stream hear of all.
    expect(actions.map(([action, ids]) => [action, ids.length])).toEqual([
      ['hold', 500],
      ['hold', 1],
    ]);
    expect(await (await bulk('hold', '{"domain": "big.test"}')).json()).toEqual({
      matched: 501,
      changed: 0,
      refused: { 'hold is not possible for a held delivery': 501 },
    });
    // By status: MSG1's two queued deliveries to remote.test are not touched by the release.
    expect(await (await bulk('release', '{"status": "held"}')).json()).toMatchObject({
      matched: 501,
      changed: 501,
    });
    expect(await (await bulk('retry-now', '{"all": true}')).json()).toMatchObject({
      matched: 503,
      changed: 503,
    });

    expect((await bulk('hold', '{}')).status).toBe(400);
    expect((await bulk('hold', '{"all": false}')).status).toBe(400);
    expect((await bulk('explode', '{"all": true}')).status).toBe(404);
  });

  it('purges the mail it has finished with, older than asked, and leaves what it still owes', async () => {
    const envelope = {
      from: 'a@local.test',
      to: ['d@remote.test'],
      mailParameters: {},
      rcptParameters: [{}],
    };
    await storage.spool.receive(new TextEncoder().encode('Subject: done\r\n\r\nx\r\n'), {
      id: 'MSG2',
      receivedAtMs: now,
      envelope,
      session: null,
      companionRows: deliveryRows({
        messageId: 'MSG2',
        receivedAtMs: now,
        envelope,
        postmasterDomain: 'mta.test',
      }),
    });
    // MSG2's one delivery is final (the operator deleted it); MSG1's two are still queued.
    expect((await app.request('/api/v1/queue/messages/MSG2/delete', { method: 'POST' })).status).toBe(200);
    const purge = (body: string, contentType = 'application/json') =>
      app.request('/api/v1/queue/purge', { method: 'POST', headers: { 'content-type': contentType }, body });

    const recent = await purge('{"olderThan": "1h"}');
    expect(recent.status).toBe(200);
    expect(await recent.json()).toEqual({ purged: 0 });
    const all = await purge('{}');
    expect(await all.json()).toEqual({ purged: 1 });
    expect(purged).toEqual([['MSG2']]);
    expect((await app.request('/api/v1/queue/messages/MSG2')).status).toBe(404);
    expect(await storage.spool.getRaw('MSG2')).toBeNull();
    const owed = queuedMessageSchema.parse(await (await app.request('/api/v1/queue/messages/MSG1')).json());
    expect(owed.deliveries.map((delivery) => delivery.status)).toEqual(['queued', 'queued']);
    expect(await (await purge('{}')).json()).toEqual({ purged: 0 });
    expect(purged).toHaveLength(1);

    const badDuration = await purge('{"olderThan": "soon"}');
    expect(badDuration.status).toBe(400);
    expect(((await badDuration.json()) as { error: string }).error).toMatch(/^olderThan: a duration such as/);
    expect((await purge('{"everything": true}')).status).toBe(400);
    expect((await purge('olderThan=1h', 'application/x-www-form-urlencoded')).status).toBe(415);
  });

  it('is in the OpenAPI document', () => {
    expect(Object.keys(openApiDocument.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/queue',
        '/api/v1/queue/messages/{id}/{action}',
        '/api/v1/queue/purge',
      ]),
    );
    expect(openApiDocument.components.schemas).toHaveProperty('QueuedDelivery');
  });
});
