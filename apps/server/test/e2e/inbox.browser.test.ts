import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from '@smtp/client';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findBySubject, startTestApp } from '../support/app-harness.js';
import { temporaryDirectory } from '../support/messages.js';
import { startAiosmtpdSink } from '../support/smtp-sink.js';

const appRoot = join(dirname(fileURLToPath(import.meta.url)), '../..');
const artifacts = join(appRoot, 'test-artifacts');

function htmlMessage(subject: string, remoteImageUrl: string): string {
  return [
    'From: Newsletter <news@shop.example>',
    'To: Tester <tester@example.org>',
    `Subject: ${subject}`,
    'MIME-Version: 1.0',
    'Content-Type: multipart/alternative; boundary="alt"',
    '',
    '--alt',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Plain version: big spring sale.',
    '--alt',
    'Content-Type: text/html; charset=utf-8',
    '',
    `<html><body><h1 id="headline">Spring sale</h1><img id="pixel" src="${remoteImageUrl}" width="1" height="1">`,
    '<script>document.body.insertAdjacentHTML("beforeend", "<p id=ran>script ran</p>")</script></body></html>',
    '--alt--',
    '',
  ].join('\r\n');
}

describe('inbox in a real browser', () => {
  let harness: Awaited<ReturnType<typeof startTestApp>>;
  let sink: Awaited<ReturnType<typeof startAiosmtpdSink>>;
  let context: BrowserContext;
  let page: Page;
  let remoteServer: Server;
  let remoteHits = 0;
  let remoteUrl = '';
  const profile = temporaryDirectory();
  const webBuild = temporaryDirectory();
  const client = () =>
    createClient({ host: '127.0.0.1', port: harness.smtpPort, starttls: 'never', pool: false });

  beforeAll(async () => {
    // Its own build of the UI: other tests may be rebuilding dist/ at the same time.
    execFileSync(process.execPath, [join(appRoot, 'scripts/build-web.mjs'), webBuild.path]);
    mkdirSync(artifacts, { recursive: true });
    harness = await startTestApp({}, { webRoot: webBuild.path });
    sink = await startAiosmtpdSink();
    // Stands in for a tracking pixel's host: every request it gets is remote content that loaded.
    remoteServer = createServer((_request, response) => {
      remoteHits += 1;
      response
        .writeHead(200, { 'Content-Type': 'image/gif' })
        .end(Buffer.from('R0lGODlhAQABAAAAACw=', 'base64'));
    });
    await new Promise<void>((resolve) => remoteServer.listen(0, '127.0.0.1', resolve));
    remoteUrl = `http://127.0.0.1:${(remoteServer.address() as AddressInfo).port}/pixel.gif`;
    context = await chromium.launchPersistentContext(profile.path, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
      ],
      viewport: { width: 1280, height: 800 },
    });
    page = context.pages()[0] ?? (await context.newPage());
  });

  afterAll(async () => {
    await context?.close();
    sink?.stop();
    remoteServer?.close();
    await harness?.stop();
    profile.remove();
    webBuild.remove();
  });

  it('shows a new message live, previews its HTML in the sandbox, searches, releases and deletes', async () => {
    await page.goto(harness.baseUrl);
    await page.getByText('No mail yet').waitFor();
    await page.locator('.live.is-live').waitFor();

    // Live update: the message arrives over SMTP while the page is open, without a reload.
    const sender = client();
    await sender.send({
      from: 'news@shop.example',
      to: ['tester@example.org'],
      message: htmlMessage('Spring sale', remoteUrl),
      dsn: { notify: ['FAILURE'], orcpt: true },
    });
    await sender.send({
      from: 'billing@example.com',
      to: ['tester@example.org'],
      message:
        'From: billing@example.com\r\nTo: tester@example.org\r\nSubject: Invoice 42\r\n\r\nAmount due: 12 EUR\r\n',
    });
    await sender.close();
    const saleRow = page.locator('.message-row', { hasText: 'Spring sale' });
    await saleRow.waitFor();
    await page.locator('.message-row', { hasText: 'Invoice 42' }).waitFor();
    expect(await saleRow.getAttribute('class')).toContain('is-unread');
    await page.screenshot({ path: join(artifacts, 'inbox-live.png') });

    // Open it: the HTML preview renders inside a sandboxed iframe, scripts and remote content blocked.
    await saleRow.locator('a').click();
    await page.locator('h1.subject', { hasText: 'Spring sale' }).waitFor();
    const iframe = page.locator('iframe.preview');
    expect(await iframe.getAttribute('sandbox')).toBe('allow-popups allow-popups-to-escape-sandbox');
    const frame = page.frameLocator('iframe.preview');
    await frame.locator('#headline').waitFor();
    expect(await frame.locator('#headline').textContent()).toBe('Spring sale');
    expect(await frame.locator('#ran').count()).toBe(0);
    expect(remoteHits).toBe(0);
    await page.getByText('Remote content (images, fonts, styles) is blocked.').waitFor();
    expect(await saleRow.getAttribute('class')).not.toContain('is-unread');
    // Stored read on the server: the UI sent the PATCH (a GET changes nothing).
    await expect.poll(async () => (await findBySubject(harness.baseUrl, 'Spring sale')).isRead).toBe(true);
    await page.screenshot({ path: join(artifacts, 'message-html-preview.png') });

    await page.getByRole('button', { name: 'Show remote content' }).click();
    await page.frameLocator('iframe.preview').locator('#headline').waitFor();
    await expect.poll(() => remoteHits, { timeout: 5000 }).toBeGreaterThan(0);
    expect(await page.frameLocator('iframe.preview').locator('#ran').count()).toBe(0);

    // Other views of the message.
    await page.getByRole('tab', { name: 'Text' }).click();
    await page.locator('pre.text-body', { hasText: 'Plain version: big spring sale.' }).waitFor();
    await page.getByRole('tab', { name: 'Raw' }).click();
    await page.locator('pre.raw', { hasText: 'Content-Type: multipart/alternative' }).waitFor();
    await page.getByRole('tab', { name: 'SMTP' }).click();
    await page.locator('.details', { hasText: '<news@shop.example>' }).waitFor();
    // Each recipient with its own RCPT parameters, as sent (RFC 3461 §4).
    expect(await page.locator('.details dd.recipient').allTextContents()).toEqual([
      '<tester@example.org> NOTIFY=FAILURE ORCPT=rfc822;tester@example.org',
    ]);

    // Release it to a second, independent SMTP server.
    await page.getByRole('button', { name: 'Release…' }).click();
    await page.locator('input[name=host]').fill('127.0.0.1');
    await page.locator('input[name=port]').fill(String(sink.port));
    await page.locator('select[name=security]').selectOption('none');
    const delivered = sink.nextMessage();
    await page.getByRole('button', { name: 'Release', exact: true }).click();
    await page.locator('.release-status.is-done').waitFor();
    const message = await delivered;
    expect(message.to).toEqual(['tester@example.org']);
    expect(message.data.toString()).toContain('Subject: Spring sale');
    expect(message.data.toString()).toContain('<h1 id="headline">Spring sale</h1>');
    await page.screenshot({ path: join(artifacts, 'message-released.png') });

    // Search narrows the list; "/" focuses the search box.
    await page.locator('body').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('Escape');
    await page.keyboard.press('/');
    await page.keyboard.type('invoice');
    await expect.poll(() => page.locator('.message-row').count(), { timeout: 5000 }).toBe(1);
    expect(await page.locator('.message-row').first().textContent()).toContain('Invoice 42');
    await page.screenshot({ path: join(artifacts, 'search.png') });
    await page.locator('input.search').fill('');
    await expect.poll(() => page.locator('.message-row').count(), { timeout: 5000 }).toBe(2);

    // Keyboard: k opens the message above, Delete removes it.
    await page.locator('input.search').blur();
    await page.keyboard.press('k');
    await page.locator('h1.subject', { hasText: 'Invoice 42' }).waitFor();
    await page.keyboard.press('Delete');
    await expect.poll(() => page.locator('.message-row').count(), { timeout: 5000 }).toBe(1);
    const remaining = (await (await fetch(`${harness.baseUrl}/api/v1/messages`)).json()) as { total: number };
    expect(remaining.total).toBe(1);

    // Delete with the button.
    await page.locator('.message-row', { hasText: 'Spring sale' }).locator('a').click();
    await page.locator('.message-actions').getByRole('button', { name: 'Delete' }).click();
    await page.getByText('No mail yet').waitFor();
  });

  it('links a message and its delivery report (DSN NOTIFY=SUCCESS) both ways', async () => {
    const sender = client();
    const result = await sender.send({
      from: 'app@example.com',
      to: ['dsn@example.org'],
      message: 'From: app@example.com\r\nTo: dsn@example.org\r\nSubject: Track me\r\n\r\nHello\r\n',
      dsn: { notify: ['SUCCESS'], envid: 'TRACK-1' },
    });
    await sender.close();
    await page.goto(`${harness.baseUrl}/#/message/${result.queueId}`);
    await page.locator('h1.subject', { hasText: 'Track me' }).waitFor();
    await page.getByRole('link', { name: 'Delivery report →' }).click();
    await page.locator('h1.subject', { hasText: 'Successful Mail Delivery Report' }).waitFor();
    await page.screenshot({ path: join(artifacts, 'dsn-report.png') });
    await page.getByRole('link', { name: 'Report for ←' }).click();
    await page.locator('h1.subject', { hasText: 'Track me' }).waitFor();
  });

  it('works on a phone-sized screen', async () => {
    const sender = client();
    await sender.send({
      from: 'app@example.com',
      to: ['phone@example.org'],
      message:
        'From: App <app@example.com>\r\nTo: phone@example.org\r\nSubject: Verify your phone\r\n\r\nCode: 123456\r\n',
    });
    await sender.close();
    const phone = await context.newPage();
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.goto(harness.baseUrl);
    await phone.locator('.message-row', { hasText: 'Verify your phone' }).waitFor();
    expect(await phone.locator('.reader').isVisible()).toBe(false);
    await phone.screenshot({ path: join(artifacts, 'phone-list.png') });
    await phone.locator('.message-row a').first().click();
    await phone.locator('h1.subject', { hasText: 'Verify your phone' }).waitFor();
    expect(await phone.locator('.list').isVisible()).toBe(false);
    await phone.locator('pre.text-body', { hasText: 'Code: 123456' }).waitFor();
    await phone.screenshot({ path: join(artifacts, 'phone-message.png') });
    await phone.getByRole('button', { name: 'Back to the list' }).click();
    await phone.locator('.message-row').first().waitFor();
    await phone.close();
  });
});
