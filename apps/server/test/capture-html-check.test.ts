import { createClient } from '@smtp/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp } from './support/app-harness.js';
import { composeRaw } from './support/messages.js';

const flexNewsletter = [
  'From: News <news@list.example>',
  'To: reader@example.net',
  'Subject: Flexbox newsletter',
  'MIME-Version: 1.0',
  'Content-Type: text/html; charset=utf-8',
  '',
  '<html><head><style>.row{display:flex}</style></head><body>',
  '<div class="row" style="border-radius:4px"><video src="https://list.example/v.mp4"></video></div>',
  '</body></html>',
  '',
].join('\r\n');

/** GET /messages/{id}/html-check on mail received over SMTP (caniemail data, offline). */
describe('HTML compatibility check', () => {
  let harness: Awaited<ReturnType<typeof startTestApp>>;

  beforeAll(async () => {
    harness = await startTestApp();
  }, 60_000);
  afterAll(() => harness.stop());

  async function send(raw: string): Promise<string> {
    const client = createClient({
      host: '127.0.0.1',
      port: harness.smtpPort,
      starttls: 'never',
      pool: false,
    });
    try {
      const result = await client.send({
        from: 'news@list.example',
        to: ['reader@example.net'],
        message: raw,
      });
      if (result.queueId === undefined) throw new Error('no queue id in the 250');
      return result.queueId;
    } finally {
      await client.close();
    }
  }
  const htmlCheck = async (id: string) => {
    const response = await fetch(`${harness.baseUrl}/api/v1/messages/${id}/html-check`);
    // biome-ignore lint/suspicious/noExplicitAny: assertions read JSON bodies field by field
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };

  it('lists the features used with the clients that lack them, and a score', async () => {
    const { status, body } = await htmlCheck(await send(flexNewsletter));
    expect(status).toBe(200);
    expect(body.hasHtml).toBe(true);
    expect(body.clients).toContain('outlook.windows');
    expect(body.clients).toContain('gmail.desktop-webmail');
    const byName = new Map(body.features.map((feature: { name: string }) => [feature.name, feature]));
    expect(byName.get('display:flex')).toMatchObject({
      unsupported: expect.arrayContaining(['outlook.windows']),
    });
    expect(byName.get('<video> element')).toMatchObject({
      unsupported: expect.arrayContaining(['gmail.desktop-webmail']),
    });
    expect(byName.has('border-radius')).toBe(true);
    expect(body.score.unsupported).toBeGreaterThan(0);
    expect(body.score.supported + body.score.partial + body.score.unsupported).toBeCloseTo(100, 0);
  });

  it('reports nothing to check for a text-only message, and 404 for an unknown one', async () => {
    const { body } = await htmlCheck(await send(composeRaw({ subject: 'plain' })));
    expect(body).toMatchObject({
      hasHtml: false,
      features: [],
      score: { supported: 100, partial: 0, unsupported: 0 },
    });
    expect((await htmlCheck('nope')).status).toBe(404);
  });
});
