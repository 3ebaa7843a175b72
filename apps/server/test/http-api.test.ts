import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import {
  attachmentListSchema,
  deleteAllResultSchema,
  errorSchema,
  mailboxEventSchema,
  markAllReadResultSchema,
  messagePageSchema,
  messagePartsSchema,
  messageSchema,
  readFlagSchema,
} from '../src/http/schemas/index.js';
import type { ReleaseTarget } from '../src/release/release-message.js';
import { startHttpHarness } from './support/http-harness.js';
import { composeRaw } from './support/messages.js';

const htmlMessage = [
  'From: Shop <shop@example.com>',
  'To: customer@example.net',
  'Subject: Your order',
  'MIME-Version: 1.0',
  'Content-Type: multipart/related; boundary="rel"',
  '',
  '--rel',
  'Content-Type: text/html; charset=utf-8',
  '',
  '<html><body><h1>Thanks!</h1><img src="cid:logo@shop"><img src="https://tracker.example/pixel.gif"><script>parent.hacked=1</script></body></html>',
  '--rel',
  'Content-Type: image/png',
  'Content-ID: <logo@shop>',
  'Content-Disposition: inline; filename="logo.png"',
  'Content-Transfer-Encoding: base64',
  '',
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  '--rel--',
  '',
].join('\r\n');

describe('REST API over HTTP', () => {
  let harness: Awaited<ReturnType<typeof startHttpHarness>>;
  const releases: { raw: Uint8Array; target: ReleaseTarget }[] = [];

  beforeAll(async () => {
    harness = await startHttpHarness({
      releaseAllowedHosts: ['127.0.0.1', 'relay.example'],
      releaseMessage: async (raw, target) => {
        if (target.host === 'relay.example') throw new Error('connect ECONNREFUSED');
        releases.push({ raw, target });
        return { accepted: [...target.to], rejected: [], reply: '250 2.0.0 OK' };
      },
    });
  });
  afterAll(() => harness.close());
  beforeEach(async () => {
    await fetch(`${harness.baseUrl}/api/v1/messages`, { method: 'DELETE' });
  });

  const getJson = async (path: string) => {
    const response = await fetch(harness.baseUrl + path);
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };

  it('lists newest first and pages with nextCursor', async () => {
    for (let index = 0; index < 7; index += 1)
      await harness.ingest(composeRaw({ subject: `Page test ${index}` }));
    const first = await getJson('/api/v1/messages?limit=3');
    expect(first.status).toBe(200);
    expect(first.body.total).toBe(7);
    expect(first.body.unread).toBe(7);
    expect(first.body.messages.map((message: { subject: string }) => message.subject)).toEqual([
      'Page test 6',
      'Page test 5',
      'Page test 4',
    ]);
    const second = await getJson(`/api/v1/messages?limit=3&cursor=${first.body.nextCursor}`);
    expect(second.body.messages[0].subject).toBe('Page test 3');
    const third = await getJson(`/api/v1/messages?limit=3&cursor=${second.body.nextCursor}`);
    expect(third.body.messages).toHaveLength(1);
    expect(third.body.nextCursor).toBeNull();
  });

  it('searches', async () => {
    await harness.ingest(composeRaw({ subject: 'Password reset', body: 'Click the link' }));
    const wanted = await harness.ingest(composeRaw({ subject: 'Weekly digest', body: 'News of the week' }));
    const found = await getJson('/api/v1/messages?search=digest');
    expect(found.body.messages.map((message: { id: string }) => message.id)).toEqual([wanted]);
    expect((await getJson('/api/v1/messages?search=subject%3Aclick')).body.messages).toEqual([]);
  });

  it('searches with -negation, cc:, header:, filename:, larger:/smaller: and before:/after:', async () => {
    const report = await harness.ingest(
      [
        'From: Reports <reports@example.com>',
        'To: team@example.net',
        'Cc: Carol Finance <carol@example.org>',
        'Subject: Quarterly numbers',
        'X-Campaign: spring sale 2024',
        'MIME-Version: 1.0',
        'Content-Type: multipart/mixed; boundary="b"',
        '',
        '--b',
        'Content-Type: text/plain',
        '',
        'See the attached report.',
        '--b',
        'Content-Type: application/pdf',
        'Content-Disposition: attachment; filename="Q1-Report.pdf"',
        'Content-Transfer-Encoding: base64',
        '',
        Buffer.alloc(6000, 7).toString('base64'),
        '--b--',
        '',
      ].join('\r\n'),
    );
    const draft = await harness.ingest(composeRaw({ subject: 'Quarterly draft', body: 'not final' }));
    const small = await harness.ingest(composeRaw({ subject: 'Lunch?', body: 'tacos' }));
    const ids = async (search: string) =>
      (await getJson(`/api/v1/messages?search=${encodeURIComponent(search)}`)).body.messages.map(
        (message: { id: string }) => message.id,
      );
    expect(await ids('quarterly -draft')).toEqual([report]);
    expect(await ids('-quarterly')).toEqual([small]);
    expect(await ids('cc:carol')).toEqual([report]);
    expect(await ids('cc:finance')).toEqual([report]);
    expect(await ids('cc:team')).toEqual([]); // a To address is not a Cc
    expect(await ids('header:"x-campaign: Spring Sale"')).toEqual([report]);
    expect(await ids('header:X-Campaign')).toEqual([report]);
    expect(await ids('header:X-Campaign:winter')).toEqual([]);
    expect(await ids('filename:q1-report')).toEqual([report]);
    expect(await ids('filename:.pdf quarterly')).toEqual([report]);
    expect(await ids('larger:5k')).toEqual([report]);
    expect(await ids('smaller:5k')).toEqual([small, draft]);
    const today = new Date().toISOString().slice(0, 10);
    expect(await ids(`after:${today} lunch`)).toEqual([small]);
    expect(await ids(`before:${today}`)).toEqual([]);
    const counted = await getJson(`/api/v1/messages?search=${encodeURIComponent('-lunch')}`);
    expect(counted.body.total).toBe(2);
    const bad = await getJson(`/api/v1/messages?search=${encodeURIComponent('before:someday')}`);
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/before: wants a date/);
  });

  it('composes and stores a message from JSON (POST /api/v1/send)', async () => {
    const send = (body: unknown, contentType = 'application/json') =>
      fetch(`${harness.baseUrl}/api/v1/send`, {
        method: 'POST',
        headers: { 'Content-Type': contentType },
        body: JSON.stringify(body),
      });
    const response = await send({
      from: { name: 'Shop', address: 'shop@example.com' },
      to: ['Tester <tester@example.org>'],
      cc: ['carol@example.org'],
      bcc: ['hidden@example.net'],
      subject: 'Grüße from the send API',
      text: 'Plain words',
      html: '<p>Rich <img src="cid:logo@shop"></p>',
      headers: { 'X-Campaign': 'spring' },
      attachments: [
        {
          filename: 'prices.csv',
          contentType: 'text/csv',
          contentBase64: Buffer.from('item,price').toString('base64'),
        },
        {
          filename: 'logo.png',
          contentType: 'image/png',
          contentBase64: Buffer.from('not really a png').toString('base64'),
          contentId: 'logo@shop',
        },
      ],
    });
    expect(response.status).toBe(200);
    const result = (await response.json()) as { id: string; messageId: string };
    expect(result.messageId).toMatch(/^<.+@.+>$/);
    const stored = await getJson(`/api/v1/messages/${result.id}`);
    expect(stored.body.subject).toBe('Grüße from the send API');
    expect(stored.body.from).toEqual({ name: 'Shop', address: 'shop@example.com' });
    expect(stored.body.cc).toEqual([{ name: '', address: 'carol@example.org' }]);
    expect(stored.body.envelope.to).toEqual([
      'tester@example.org',
      'carol@example.org',
      'hidden@example.net',
    ]);
    expect(stored.body.text.trim()).toBe('Plain words');
    expect(stored.body.attachments.map((each: { filename: string }) => each.filename).sort()).toEqual([
      'logo.png',
      'prices.csv',
    ]);
    expect(stored.body.headers).toContainEqual({ name: 'X-Campaign', value: 'spring' });
    const raw = await (await fetch(`${harness.baseUrl}/api/v1/messages/${result.id}/raw`)).text();
    expect(raw).not.toMatch(/^Bcc:/im); // blind copies stay in the envelope
    expect(
      (await getJson(`/api/v1/messages?search=${encodeURIComponent('filename:prices')}`)).body.messages[0].id,
    ).toBe(result.id);
  });

  it('refuses a send without recipients, with a line break in a header, or not as JSON', async () => {
    const send = (body: unknown, contentType = 'application/json') =>
      fetch(`${harness.baseUrl}/api/v1/send`, {
        method: 'POST',
        headers: { 'Content-Type': contentType },
        body: JSON.stringify(body),
      });
    const noRecipient = await send({ from: 'a@example.com', subject: 'x' });
    expect(noRecipient.status).toBe(400);
    expect(((await noRecipient.json()) as { error: string }).error).toMatch(/at least one recipient/);
    const injected = await send({
      from: 'a@example.com',
      to: ['b@example.net'],
      headers: { 'X-Evil': 'a\r\nBcc: x@example.com' },
    });
    expect(injected.status).toBe(400);
    expect((await send({ from: 'a@example.com', to: ['b@example.net'] }, 'text/plain')).status).toBe(415);
    expect((await getJson('/api/v1/messages')).body.total).toBe(0);
  });

  it('answers 400 for a bad cursor or limit', async () => {
    expect((await getJson('/api/v1/messages?cursor=zzz')).status).toBe(400);
    expect((await getJson('/api/v1/messages?limit=abc')).status).toBe(400);
  });

  it('long-polls with wait=: answers when a matching message arrives, not before', async () => {
    const sleep = (ms: number) =>
      new Promise<'still waiting'>((resolve) => setTimeout(resolve, ms, 'still waiting'));
    const pending = getJson(
      `/api/v1/messages?wait=30s&search=${encodeURIComponent('subject:"Late arrival"')}`,
    );
    expect(await Promise.race([pending, sleep(500)])).toBe('still waiting');
    await harness.ingest(composeRaw({ subject: 'Something else' }));
    expect(await Promise.race([pending, sleep(300)])).toBe('still waiting');
    const wanted = await harness.ingest(composeRaw({ subject: 'Late arrival' }));
    const answer = await pending;
    expect(answer.status).toBe(200);
    expect(answer.body.messages.map((message: { id: string }) => message.id)).toEqual([wanted]);
    // A match already there: answered at once, with the page as a plain list gives it.
    const present = await getJson('/api/v1/messages?wait=30s&search=arrival');
    expect(present.body.messages[0].id).toBe(wanted);
  });

  it('ends a long poll at its timeout with the empty page, and refuses a bad wait', async () => {
    const started = performance.now();
    const answer = await getJson('/api/v1/messages?wait=300ms&search=nothingmatchesthis');
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(answer.status).toBe(200);
    expect(answer.body.messages).toEqual([]);
    expect((await getJson('/api/v1/messages?wait=forever')).status).toBe(400);
    expect((await getJson('/api/v1/messages?wait=10m')).status).toBe(400);
  });

  it('gets a message without marking it read; PATCH marks it', async () => {
    const id = await harness.ingest(composeRaw({ subject: 'Read me' }));
    const opened = await getJson(`/api/v1/messages/${id}`);
    expect(opened.body).toMatchObject({
      id,
      subject: 'Read me',
      isRead: false,
      envelope: { from: 'alice@example.com' },
    });
    // A GET has no side effect: an <img src> on any page could send it.
    expect((await getJson('/api/v1/messages')).body.unread).toBe(1);
    const patch = (isRead: boolean) =>
      fetch(`${harness.baseUrl}/api/v1/messages/${id}`, {
        method: 'PATCH',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ isRead }),
      });
    expect((await patch(true)).status).toBe(200);
    expect((await getJson('/api/v1/messages')).body.unread).toBe(0);
    expect((await getJson(`/api/v1/messages/${id}`)).body.isRead).toBe(true);
    expect((await patch(false)).status).toBe(200);
    expect((await getJson('/api/v1/messages')).body.unread).toBe(1);
    expect((await getJson('/api/v1/messages/nope')).status).toBe(404);
  });

  it('marks everything read only for a JSON body, never for what a cross-site form can post', async () => {
    await harness.ingest(composeRaw({ subject: 'Unread 1' }));
    await harness.ingest(composeRaw({ subject: 'Unread 2' }));
    const post = (contentType: string | null, body: string) =>
      fetch(`${harness.baseUrl}/api/v1/messages/read`, {
        method: 'POST',
        headers: contentType === null ? {} : { 'Content-Type': contentType },
        body,
      });
    // What <form enctype=…> sends: text/plain, urlencoded, multipart; or no body at all.
    expect((await post('text/plain', '{"x":"=y"}')).status).toBe(415);
    expect((await post('application/x-www-form-urlencoded', 'a=b')).status).toBe(415);
    expect((await post('multipart/form-data; boundary=x', '--x--')).status).toBe(415);
    expect((await post(null, '')).status).toBe(415);
    expect((await getJson('/api/v1/messages')).body.unread).toBe(2);
    expect((await post('application/json', '{"all":true}')).status).toBe(400);
    const done = await post('application/json', '{}');
    expect(done.status).toBe(200);
    expect(await done.json()).toEqual({ updated: 2 });
    expect((await getJson('/api/v1/messages')).body.unread).toBe(0);
  });

  it('refuses state changes that are not JSON (no cross-site form posts)', async () => {
    const id = await harness.ingest(composeRaw());
    const response = await fetch(`${harness.baseUrl}/api/v1/messages/${id}`, {
      method: 'PATCH',
      headers: { 'Content-Type': 'text/plain' },
      body: JSON.stringify({ isRead: true }),
    });
    expect(response.status).toBe(415);
  });

  it('serves the raw message byte-exact', async () => {
    const raw = new Uint8Array([
      ...new TextEncoder().encode(composeRaw({ body: 'caf\u00e9' })),
      0xff,
      0x0d,
      0x0a,
    ]);
    const id = await harness.ingest(raw);
    const response = await fetch(`${harness.baseUrl}/api/v1/messages/${id}/raw`);
    expect(Buffer.from(await response.arrayBuffer()).equals(Buffer.from(raw))).toBe(true);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const download = await fetch(`${harness.baseUrl}/api/v1/messages/${id}/raw?download=1`);
    expect(download.headers.get('content-type')).toBe('message/rfc822');
    expect(download.headers.get('content-disposition')).toBe(`attachment; filename="${id}.eml"`);
  });

  it('serves parts, a sandboxed HTML preview and attachments', async () => {
    const id = await harness.ingest(htmlMessage);
    const parts = await getJson(`/api/v1/messages/${id}/parts`);
    expect(parts.body.html).toContain('<h1>Thanks!</h1>');
    expect(parts.body.hasRemoteContent).toBe(true);
    expect(parts.body.attachments).toEqual([
      {
        index: 0,
        filename: 'logo.png',
        contentType: 'image/png',
        disposition: 'inline',
        contentId: 'logo@shop',
        sizeBytes: 70,
      },
    ]);

    const preview = await fetch(`${harness.baseUrl}/api/v1/messages/${id}/html`);
    const csp = preview.headers.get('content-security-policy') ?? '';
    expect(csp).toContain('sandbox');
    expect(csp).not.toContain('allow-scripts');
    expect(csp).not.toContain('https:');
    const html = await preview.text();
    expect(html).toContain(`/api/v1/messages/${id}/attachments/0?inline=1`); // cid: rewritten
    const remote = await fetch(`${harness.baseUrl}/api/v1/messages/${id}/html?remote=1`);
    expect(remote.headers.get('content-security-policy')).toContain('https:');

    const inline = await fetch(`${harness.baseUrl}/api/v1/messages/${id}/attachments/0?inline=1`);
    expect(inline.headers.get('content-type')).toBe('image/png');
    const bytes = new Uint8Array(await inline.arrayBuffer());
    expect([...bytes.subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]); // PNG signature
    const download = await fetch(`${harness.baseUrl}/api/v1/messages/${id}/attachments/0`);
    expect(download.headers.get('content-disposition')).toMatch(/^attachment; filename="logo.png"/);
    expect(download.headers.get('content-type')).toBe('application/octet-stream');
    expect((await fetch(`${harness.baseUrl}/api/v1/messages/${id}/attachments/5`)).status).toBe(404);
    expect((await getJson(`/api/v1/messages/${id}/attachments`)).body.attachments).toHaveLength(1);
  });

  it('deletes one and all', async () => {
    const keep = await harness.ingest(composeRaw({ subject: 'keep' }));
    const drop = await harness.ingest(composeRaw({ subject: 'drop' }));
    expect((await fetch(`${harness.baseUrl}/api/v1/messages/${drop}`, { method: 'DELETE' })).status).toBe(
      204,
    );
    expect((await fetch(`${harness.baseUrl}/api/v1/messages/${drop}`, { method: 'DELETE' })).status).toBe(
      404,
    );
    expect(
      (await getJson('/api/v1/messages')).body.messages.map((message: { id: string }) => message.id),
    ).toEqual([keep]);
    const cleared = await fetch(`${harness.baseUrl}/api/v1/messages`, { method: 'DELETE' });
    expect(await cleared.json()).toEqual({ deleted: 1 });
    expect((await getJson('/api/v1/messages')).body.total).toBe(0);
  });

  it('releases through the release function with the captured envelope by default', async () => {
    const raw = composeRaw({ subject: 'Release me' });
    const id = await harness.ingest(raw, { from: 'app@example.com', to: ['qa@example.org'] });
    const response = await fetch(`${harness.baseUrl}/api/v1/messages/${id}/release`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ host: '127.0.0.1', port: 2626 }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      accepted: ['qa@example.org'],
      rejected: [],
      reply: '250 2.0.0 OK',
    });
    const release = releases.at(-1);
    expect(release?.target).toMatchObject({
      host: '127.0.0.1',
      port: 2626,
      from: 'app@example.com',
      to: ['qa@example.org'],
    });
    expect(new TextDecoder().decode(release?.raw)).toBe(raw);

    const forbidden = await fetch(`${harness.baseUrl}/api/v1/messages/${id}/release`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ host: 'mail.elsewhere.example', port: 25 }),
    });
    expect(forbidden.status).toBe(403);
    const failing = await fetch(`${harness.baseUrl}/api/v1/messages/${id}/release`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ host: 'relay.example', port: 25 }),
    });
    expect(failing.status).toBe(502);
    expect(((await failing.json()) as { error: string }).error).toContain('ECONNREFUSED');
    const invalid = await fetch(`${harness.baseUrl}/api/v1/messages/${id}/release`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ host: '127.0.0.1', port: 'x' }),
    });
    expect(invalid.status).toBe(400);
    expect(((await invalid.json()) as { error: string }).error).toContain('port');
    // No host and no relay configured: a clear 400, never a release somewhere.
    const hostless = await fetch(`${harness.baseUrl}/api/v1/messages/${id}/release`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({}),
    });
    expect(hostless.status).toBe(400);
    expect(((await hostless.json()) as { error: string }).error).toContain('no relay is configured');
  });

  it('streams events over SSE', async () => {
    const controller = new AbortController();
    const response = await fetch(`${harness.baseUrl}/api/v1/events`, { signal: controller.signal });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let received = '';
    const readUntil = async (text: string) => {
      while (!received.includes(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended');
        received += decoder.decode(value, { stream: true });
      }
    };
    await readUntil('event: ready');
    const id = await harness.ingest(composeRaw({ subject: 'Live one' }));
    await readUntil(id);
    expect(received).toContain('event: message-stored');
    expect(received).toContain('"subject":"Live one"');
    await fetch(`${harness.baseUrl}/api/v1/messages/${id}`, { method: 'DELETE' });
    await readUntil('event: message-deleted');
    controller.abort();
  });

  it('answers in the shapes of the wire contract, which the OpenAPI document is generated from', async () => {
    // parse() drops what the schema does not name, so an extra, missing or mistyped field fails.
    const conforms = (schema: z.ZodType, body: unknown) => expect(schema.parse(body)).toEqual(body);
    const events: unknown[] = [];
    const unsubscribe = harness.events.subscribe((event) => events.push(JSON.parse(JSON.stringify(event))));
    const id = await harness.ingest(htmlMessage);
    const patch = (body: unknown) =>
      fetch(`${harness.baseUrl}/api/v1/messages/${id}`, {
        method: 'PATCH',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
    conforms(messagePageSchema, (await getJson('/api/v1/messages')).body);
    conforms(messageSchema, (await getJson(`/api/v1/messages/${id}`)).body);
    conforms(messagePartsSchema, (await getJson(`/api/v1/messages/${id}/parts`)).body);
    conforms(attachmentListSchema, (await getJson(`/api/v1/messages/${id}/attachments`)).body);
    conforms(readFlagSchema, await (await patch({ isRead: false })).json());
    conforms(errorSchema, await (await patch({ isRead: 'no' })).json());
    conforms(errorSchema, (await getJson('/api/v1/messages/no-such-id')).body);
    const read = await fetch(`${harness.baseUrl}/api/v1/messages/read`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{}',
    });
    conforms(markAllReadResultSchema, await read.json());
    const cleared = await fetch(`${harness.baseUrl}/api/v1/messages`, { method: 'DELETE' });
    conforms(deleteAllResultSchema, await cleared.json());
    unsubscribe();
    expect(events.map((event) => (event as { type: string }).type)).toEqual([
      'message-stored',
      'message-updated',
      'messages-read',
      'messages-cleared',
    ]);
    for (const event of events) conforms(mailboxEventSchema, event);

    const openapi = (await getJson('/api/v1/openapi.json')).body;
    const references = new Set(JSON.stringify(openapi).match(/#\/components\/schemas\/\w+/g));
    expect(references.size).toBeGreaterThan(10);
    for (const reference of references) {
      expect(Object.keys(openapi.components.schemas)).toContain(reference.split('/').at(-1));
    }
    expect(Object.keys(openapi.components.schemas.Message.properties)).toEqual(
      Object.keys(messageSchema.shape),
    );
    // Input side: fields with defaults (port, security) are not required; host falls back to config relay.
    expect(openapi.components.schemas.ReleaseRequest.required ?? []).toEqual([]);
    expect(openapi.components.schemas.SendResult.required).toEqual(['id', 'messageId']);
    // The guard's answers and the JSON-only bodies are in the document too.
    const markAllRead = openapi.paths['/api/v1/messages/read'].post;
    expect(markAllRead.requestBody.content['application/json'].schema.$ref).toBe(
      '#/components/schemas/MarkAllReadRequest',
    );
    expect(Object.keys(markAllRead.responses)).toEqual(expect.arrayContaining(['403', '415', '421']));
    expect(openapi.paths['/api/v1/messages/{id}'].get.parameters).toBeUndefined(); // no markRead any more
    expect(Object.keys(openapi.paths['/api/v1/messages/{id}'].patch.responses)).toEqual(
      expect.arrayContaining(['200', '403', '415', '421']),
    );
  });

  it('serves the OpenAPI document, health, metrics and the UI shell', async () => {
    const openapi = await getJson('/api/v1/openapi.json');
    expect(openapi.body.openapi).toBe('3.1.0');
    expect(Object.keys(openapi.body.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/messages',
        '/api/v1/messages/{id}',
        '/api/v1/messages/{id}/raw',
        '/api/v1/messages/{id}/release',
        '/api/v1/events',
      ]),
    );
    await harness.ingest(composeRaw());
    expect((await getJson('/healthz')).body).toEqual({ status: 'ok', messages: 1 });
    const metrics = await (await fetch(`${harness.baseUrl}/metrics`)).text();
    expect(metrics).toContain('store_messages 1');
    expect(metrics).toMatch(/store_message_bytes \d+/);
    const page = await fetch(`${harness.baseUrl}/`);
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect((await fetch(`${harness.baseUrl}/api/v1/nothing`)).status).toBe(404);
  });
});
