import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClient } from '@smtp/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp } from './support/app-harness.js';

/** A local web server the links point at; it counts the requests it gets. */
function startWebServer() {
  const requests: string[] = [];
  const server: Server = createServer((request, response) => {
    requests.push(`${request.method} ${request.url}`);
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (path === '/ok' || path === '/logo.png') response.writeHead(200).end();
    else if (path === '/head-refused') response.writeHead(request.method === 'HEAD' ? 405 : 200).end();
    else if (path === '/moved') response.writeHead(301, { Location: '/ok' }).end();
    else if (path.startsWith('/loop')) response.writeHead(302, { Location: `/loop${path.length}` }).end();
    else if (path === '/slow') setTimeout(() => response.writeHead(200).end(), 3000);
    else response.writeHead(404).end();
  });
  return new Promise<{ server: Server; port: number; requests: string[] }>((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, port: (server.address() as AddressInfo).port, requests }),
    ),
  );
}

describe('link check (GET /api/v1/messages/{id}/link-check)', () => {
  let web: Awaited<ReturnType<typeof startWebServer>>;
  let allowing: Awaited<ReturnType<typeof startTestApp>>;
  let guarded: Awaited<ReturnType<typeof startTestApp>>;

  beforeAll(async () => {
    web = await startWebServer();
    allowing = await startTestApp({
      linkCheck: { allowPrivateAddresses: true, timeoutMs: 1000, maxRedirects: 3 },
    });
    guarded = await startTestApp();
  }, 60_000);
  afterAll(async () => {
    await allowing?.stop();
    await guarded?.stop();
    web?.server.closeAllConnections();
    web?.server.close();
  });

  const messageWithLinks = (base: string) =>
    [
      'From: shop@example.com',
      'To: reader@example.net',
      'Subject: links',
      'MIME-Version: 1.0',
      'Content-Type: multipart/alternative; boundary="b"',
      '',
      '--b',
      'Content-Type: text/plain',
      '',
      `Visit ${base}/ok. Or ${base}/text-only-missing, thanks`,
      '--b',
      'Content-Type: text/html',
      '',
      `<a href="${base}/ok">ok</a> <a href='${base}/moved'>moved</a> <img src="${base}/logo.png">`,
      `<a href="${base}/missing">gone</a> <a href="${base}/loop">loop</a> <a href="${base}/slow">slow</a>`,
      `<a href="${base}/head-refused?a=1&amp;b=2">head</a> <a href="mailto:x@example.com">mail</a> <img src="cid:logo">`,
      '--b--',
      '',
    ].join('\r\n');

  async function send(harness: Awaited<ReturnType<typeof startTestApp>>): Promise<string> {
    const client = createClient({
      host: '127.0.0.1',
      port: harness.smtpPort,
      starttls: 'never',
      pool: false,
    });
    try {
      const result = await client.send({
        from: 'shop@example.com',
        to: ['reader@example.net'],
        message: messageWithLinks(`http://127.0.0.1:${web.port}`),
      });
      if (result.queueId === undefined) throw new Error('no queue id');
      return result.queueId;
    } finally {
      await client.close();
    }
  }
  const linkCheck = async (harness: Awaited<ReturnType<typeof startTestApp>>, id: string, query = '') =>
    (await (await fetch(`${harness.baseUrl}/api/v1/messages/${id}/link-check${query}`)).json()) as {
      isFollowed: boolean;
      links: {
        url: string;
        source: string;
        status: number | null;
        isOk: boolean | null;
        redirects: number;
        error: string | null;
      }[];
    };

  it('lists every http(s) link and image without fetching anything unless asked', async () => {
    const id = await send(allowing);
    const before = web.requests.length;
    const listed = await linkCheck(allowing, id);
    expect(listed.isFollowed).toBe(false);
    const base = `http://127.0.0.1:${web.port}`;
    expect(listed.links.map((link) => [link.url.replace(base, ''), link.source])).toEqual([
      ['/ok', 'html-link'],
      ['/moved', 'html-link'],
      ['/logo.png', 'html-image'],
      ['/missing', 'html-link'],
      ['/loop', 'html-link'],
      ['/slow', 'html-link'],
      ['/head-refused?a=1&b=2', 'html-link'],
      ['/text-only-missing', 'text'],
    ]);
    expect(listed.links.every((link) => link.status === null && link.isOk === null)).toBe(true);
    expect(web.requests.length).toBe(before);
  });

  it('with follow=true: statuses, redirects followed up to the limit, HEAD refused retried as GET, timeouts', async () => {
    const id = await send(allowing);
    const checked = await linkCheck(allowing, id, '?follow=true');
    expect(checked.isFollowed).toBe(true);
    const byPath = new Map(checked.links.map((link) => [new URL(link.url).pathname, link]));
    expect(byPath.get('/ok')).toMatchObject({ status: 200, isOk: true, redirects: 0, error: null });
    expect(byPath.get('/moved')).toMatchObject({ status: 200, isOk: true, redirects: 1 });
    expect(byPath.get('/logo.png')).toMatchObject({ status: 200, isOk: true });
    expect(byPath.get('/missing')).toMatchObject({ status: 404, isOk: false, error: null });
    expect(byPath.get('/loop')).toMatchObject({
      status: 302,
      isOk: false,
      redirects: 3,
      error: 'more than 3 redirects',
    });
    expect(byPath.get('/slow')).toMatchObject({
      status: null,
      isOk: false,
      error: 'no answer within 1000 ms',
    });
    expect(byPath.get('/head-refused')).toMatchObject({ status: 200, isOk: true });
    expect(web.requests).toContain('GET /head-refused?a=1&b=2');
  });

  it('refuses loopback and private addresses by default, without a request', async () => {
    const id = await send(guarded);
    const before = web.requests.length;
    const checked = await linkCheck(guarded, id, '?follow=true');
    expect(checked.links.length).toBe(8);
    for (const link of checked.links) {
      expect(link.status).toBeNull();
      expect(link.isOk).toBe(false);
      expect(link.error).toMatch(/^refused: 127\.0\.0\.1 is a loopback address/);
    }
    expect(web.requests.length).toBe(before);
  });
});
