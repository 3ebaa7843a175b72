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

const taggedNewsletter = [
  'From: News <news@list.example>',
  'To: reader@example.net',
  'Subject: Tagged newsletter',
  'X-Tags: alpha',
  'List-Unsubscribe: https://list.example/u',
  'MIME-Version: 1.0',
  'Content-Type: text/html; charset=utf-8',
  '',
  '<html><body><div style="display:flex">Hello</div></body></html>',
  '',
].join('\r\n');

/** Tags in the list and the message view, and the Checks tab, in a real browser. */
describe('capture features in a real browser', () => {
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
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await harness?.stop();
    profile.remove();
    webBuild.remove();
  });

  const tagsOf = async (id: string) =>
    ((await (await fetch(`${harness.baseUrl}/api/v1/messages/${id}`)).json()) as { tags: string[] }).tags;

  it('shows tags in the list, edits them in the message view, and shows the checks', async () => {
    await page.goto(harness.baseUrl);
    const sender = createClient({
      host: '127.0.0.1',
      port: harness.smtpPort,
      starttls: 'never',
      pool: false,
    });
    const result = await sender.send({
      from: 'news@list.example',
      to: ['reader@example.net'],
      message: taggedNewsletter,
    });
    await sender.close();
    const id = result.queueId as string;
    const row = page.locator(`li.message-row[data-id="${id}"]`);
    await row.locator('.tag', { hasText: 'alpha' }).waitFor();

    await row.locator('a').click();
    await page.locator('h1.subject', { hasText: 'Tagged newsletter' }).waitFor();
    const input = page.getByRole('textbox', { name: 'Add tags' });
    await input.fill('beta, Gamma');
    await input.press('Enter');
    await page.locator('.tag-editor .tag', { hasText: 'Gamma' }).waitFor();
    expect(await tagsOf(id)).toEqual(['alpha', 'beta', 'Gamma']);
    // The list hears of it through the event stream.
    await row.locator('.tag', { hasText: 'beta' }).waitFor();

    await page.getByRole('button', { name: 'Remove tag alpha' }).click();
    await page.locator('.tag-editor .tag', { hasText: 'alpha' }).waitFor({ state: 'detached' });
    expect(await tagsOf(id)).toEqual(['beta', 'Gamma']);

    await page.getByRole('tab', { name: 'Checks' }).click();
    const unsubscribe = page.getByRole('region', { name: 'List-Unsubscribe' });
    await unsubscribe.getByText('Text outside angle brackets', { exact: false }).waitFor();
    const compatibility = page.getByRole('region', { name: 'HTML compatibility' });
    await compatibility.locator('.html-features th', { hasText: 'display:flex' }).waitFor();
    expect(await compatibility.locator('.html-score').textContent()).toMatch(
      /% unsupported, over \d+ clients/,
    );
    await page.screenshot({ path: join(artifacts, 'capture-features-checks.png') });
  });
});
