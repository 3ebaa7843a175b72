import { join } from 'node:path';
import { createClient } from '@smtp/client';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiDocument } from '../src/http/openapi-document.js';
import { suppressionPageSchema } from '../src/http/schemas/suppression-schemas.js';
import { registerSuppressionRoutes } from '../src/http/suppression-routes.js';
import { parseMessage } from '../src/mime/parse-message.js';
import { SqliteStorage } from '../src/sqlite/sqlite-storage.js';
import { temporaryDirectory } from './support/messages.js';
import { type MtaTestbed, startMtaTestbed } from './support/mta-testbed.js';

// The whole app in MTA mode against aiosmtpd as the remote MX, which answers 550 5.1.1 to perm-*
// and 550 5.7.1 to deny-*: the first failure suppresses the recipient, the second does not.
describe('MTA mode: hard 5.1.x failures feed the suppression list', () => {
  let harness: MtaTestbed['harness'];
  let testbed: MtaTestbed | undefined;

  beforeAll(async () => {
    testbed = await startMtaTestbed();
    harness = testbed.harness;
  }, 30_000);
  afterAll(async () => {
    await testbed?.stop();
  });

  async function send(to: readonly string[]) {
    const client = createClient({
      host: '127.0.0.1',
      port: harness.smtpPort,
      starttls: 'never',
      name: 'app.local.test',
      pool: false,
    });
    try {
      // NOTIFY=NEVER: no failure report to a sender domain the DNS stub does not know.
      return await client.send({
        from: 'app@sender.test',
        to: [...to],
        message: 'Subject: s\r\n\r\nx\r\n',
        dsn: { notify: 'NEVER' },
      });
    } finally {
      await client.close();
    }
  }

  async function suppressions() {
    const response = await fetch(`${harness.baseUrl}/api/v1/suppressions`);
    expect(response.status).toBe(200);
    return suppressionPageSchema.parse(await response.json()).suppressions;
  }

  async function settled() {
    for (let tries = 0; tries < 500; tries++) {
      const summary = await (await fetch(`${harness.baseUrl}/api/v1/queue/summary`)).json();
      if (summary.byStatus.queued === 0 && summary.byStatus['in-flight'] === 0) return summary;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error('the queue did not settle');
  }

  it('refuses a suppressed recipient at RCPT with 550 5.1.1 until the API removes it; 5.7.1 does not suppress', async () => {
    const first = await send(['perm-gone@Remote.TEST', 'deny-me@remote.test']);
    expect(first.reply.code).toBe(250);
    const summary = await settled();
    expect(summary.byStatus.failed).toBe(2);
    const listed = await suppressions();
    expect(listed).toMatchObject([
      { address: 'perm-gone@remote.test', reason: '550 5.1.1 No such user', deliveryId: expect.any(Number) },
    ]);

    const second = await send(['perm-gone@remote.test', 'deny-me@remote.test', 'bob@remote.test']);
    expect(second.accepted.map(({ to }) => to)).toEqual(['deny-me@remote.test', 'bob@remote.test']);
    expect(second.rejected).toHaveLength(1);
    const refusal = second.rejected[0]?.reply;
    expect(refusal?.code).toBe(550);
    expect(refusal?.enhanced).toBe('5.1.1');
    expect(refusal?.lines.join(' ')).toMatch(
      /^<perm-gone@remote\.test>: recipient is suppressed after a permanent failure on \d{4}-\d\d-\d\d \(550 5\.1\.1 No such user\); remove it via the queue API$/,
    );
    await settled();

    const removed = await fetch(`${harness.baseUrl}/api/v1/suppressions/perm-gone@remote.test`, {
      method: 'DELETE',
    });
    expect(removed.status).toBe(200);
    expect(await suppressions()).toEqual([]);
    const again = await fetch(`${harness.baseUrl}/api/v1/suppressions/perm-gone@remote.test`, {
      method: 'DELETE',
    });
    expect(again.status).toBe(404);

    const third = await send(['perm-gone@remote.test']);
    expect(third.accepted.map(({ to }) => to)).toEqual(['perm-gone@remote.test']);
    expect(third.rejected).toEqual([]);
    await settled();
  });

  it('refuses a bad query', async () => {
    expect((await fetch(`${harness.baseUrl}/api/v1/suppressions?limit=0`)).status).toBe(400);
    expect((await fetch(`${harness.baseUrl}/api/v1/suppressions?cursor=nope`)).status).toBe(400);
  });
});

describe('/api/v1/suppressions paging', () => {
  it('lists newest first, one page after the other by nextCursor, and is in the OpenAPI document', async () => {
    const directory = temporaryDirectory();
    const storage = new SqliteStorage({ parse: parseMessage, path: join(directory.path, 'messages.sqlite') });
    try {
      const app = new Hono();
      registerSuppressionRoutes(app, storage.suppressions);
      for (const [index, address] of ['a@x.test', 'b@x.test', 'c@X.TEST'].entries())
        await storage.suppressions.add({
          address,
          reason: '550 5.1.1 No such user',
          createdAtMs: 1_000 + index,
          messageId: `M${index}`,
          deliveryId: index + 1,
        });
      // A second failure keeps the first entry and its date.
      await storage.suppressions.add({
        address: 'a@X.test',
        reason: '550 5.1.1 again',
        createdAtMs: 9_000,
        messageId: 'M9',
        deliveryId: 9,
      });
      const first = suppressionPageSchema.parse(
        await (await app.request('/api/v1/suppressions?limit=2')).json(),
      );
      expect(first.suppressions.map(({ address }) => address)).toEqual(['c@x.test', 'b@x.test']);
      const cursor = encodeURIComponent(first.nextCursor ?? '');
      const second = suppressionPageSchema.parse(
        await (await app.request(`/api/v1/suppressions?limit=2&cursor=${cursor}`)).json(),
      );
      expect(second).toEqual({
        suppressions: [
          {
            address: 'a@x.test',
            reason: '550 5.1.1 No such user',
            createdAt: 1_000,
            messageId: 'M0',
            deliveryId: 1,
          },
        ],
        nextCursor: null,
      });
    } finally {
      await storage.close();
      directory.remove();
    }
    expect(Object.keys(openApiDocument.paths)).toEqual(
      expect.arrayContaining(['/api/v1/suppressions', '/api/v1/suppressions/{address}']),
    );
    expect(openApiDocument.components.schemas).toHaveProperty('SuppressionPage');
  });
});
