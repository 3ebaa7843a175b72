import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from '@smtp/client';
import { requireTool } from '@smtp/test-support';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp } from '../support/app-harness.js';
import { temporaryDirectory } from '../support/messages.js';

const appRoot = join(dirname(fileURLToPath(import.meta.url)), '../..');
const artifacts = join(appRoot, 'test-artifacts');

/** Encoded words in headers, a Reply-To, a blind copy (envelope only), a cid: image and a real attachment. */
const newsletter = [
  'From: =?UTF-8?B?TcO8bGxlciBTaG9w?= <shop@example.com>',
  'To: Tester <tester@example.org>',
  'Reply-To: Support <support@example.com>',
  'Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe_aus_K=C3=B6ln?=',
  'X-Greeting: =?ISO-8859-1?Q?Caf=E9?= ok',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="mixed"',
  '',
  '--mixed',
  'Content-Type: multipart/related; boundary="rel"',
  '',
  '--rel',
  'Content-Type: text/html; charset=utf-8',
  '',
  '<html><body><p id="hello">Hello</p><img src="cid:logo@shop"></body></html>',
  '--rel',
  'Content-Type: image/png',
  'Content-ID: <logo@shop>',
  'Content-Disposition: inline; filename="logo.png"',
  'Content-Transfer-Encoding: base64',
  '',
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  '--rel--',
  '--mixed',
  'Content-Type: text/csv',
  'Content-Disposition: attachment; filename="prices.csv"',
  '',
  'item,price',
  '--mixed--',
  '',
].join('\r\n');

describe('message view in a real browser', () => {
  let harness: Awaited<ReturnType<typeof startTestApp>>;
  let context: BrowserContext;
  let page: Page;
  const profile = temporaryDirectory();
  const webBuild = temporaryDirectory();

  beforeAll(async () => {
    requireTool('/usr/bin/chromium', 'apt-get install -y chromium');
    // Its own build of the UI: other tests may be rebuilding dist/ at the same time.
    execFileSync(process.execPath, [join(appRoot, 'scripts/build-web.mjs'), webBuild.path]);
    mkdirSync(artifacts, { recursive: true });
    harness = await startTestApp({}, { webRoot: webBuild.path });
    context = await chromium.launchPersistentContext(profile.path, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
      viewport: { width: 1280, height: 800 },
    });
    page = context.pages()[0] ?? (await context.newPage());
  });

  afterAll(async () => {
    await context?.close();
    await harness?.stop();
    profile.remove();
    webBuild.remove();
  });

  it('says where to send mail when empty, and the list panel fills the window', async () => {
    await page.goto(harness.baseUrl);
    await page.getByText(`No mail yet. Send some to 127.0.0.1 port ${harness.smtpPort}.`).waitFor();
    const list = await page.locator('nav.list').boundingBox();
    const toolbar = await page.locator('header.toolbar').boundingBox();
    // From below the toolbar to the bottom of the 800 px window.
    expect(Math.round((list?.y ?? 0) + (list?.height ?? 0))).toBe(800);
    expect(list?.y).toBeCloseTo((toolbar?.y ?? 0) + (toolbar?.height ?? 0), 0);
  });

  it('decodes encoded words, shows Reply-To and the blind copy, says EHLO, lists only real attachments', async () => {
    const sender = createClient({
      host: '127.0.0.1',
      port: harness.smtpPort,
      starttls: 'never',
      pool: false,
    });
    const result = await sender.send({
      from: 'shop@example.com',
      to: ['tester@example.org', 'hidden@example.net'],
      message: newsletter,
    });
    await sender.close();
    await page.goto(`${harness.baseUrl}/#/message/${result.queueId}`);
    await page.locator('h1.subject', { hasText: 'Grüße aus Köln' }).waitFor();

    const summary = page.locator('dl.summary');
    const summaryValue = async (label: string) =>
      (await summary.locator(`dt:text-is("${label}") + dd`).textContent())?.trim();
    expect(await summaryValue('From')).toBe('Müller Shop <shop@example.com>');
    expect(await summaryValue('Reply-To')).toBe('Support <support@example.com>');
    expect(await summaryValue('Bcc')).toBe('hidden@example.net');

    // The cid: logo is shown in the HTML, not offered again as a download; the CSV is.
    expect(await page.locator('ul.attachments li').allTextContents()).toEqual([
      expect.stringContaining('prices.csv'),
    ]);

    await page.getByRole('tab', { name: 'Headers' }).click();
    const headerValue = async (name: string) =>
      (await page.locator(`table.headers th:text-is("${name}") + td`).first().textContent())?.trim();
    expect(await headerValue('Subject')).toBe('Grüße aus Köln');
    expect(await headerValue('X-Greeting')).toBe('Café ok');

    await page.getByRole('tab', { name: 'SMTP' }).click();
    await page.locator('.details', { hasText: 'EHLO ' }).waitFor();
    expect(await page.locator('.details').textContent()).not.toContain('HELO ');
    await page.screenshot({ path: join(artifacts, 'message-view-summary.png') });
  });
});
