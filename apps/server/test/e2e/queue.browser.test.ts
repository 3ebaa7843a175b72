import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireTool } from '@smtp/test-support';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { temporaryDirectory } from '../support/messages.js';
import { type MtaTestbed, relayMessage, startMtaTestbed } from '../support/mta-testbed.js';

const appRoot = join(dirname(fileURLToPath(import.meta.url)), '../..');
const artifacts = join(appRoot, 'test-artifacts');

// The Queue and Suppressions pages in Chromium, against the app in MTA mode delivering to aiosmtpd
// on 127.0.0.2, which answers 450 4.2.0 to temp-* recipients: a deferred delivery to look at and act on.
describe('queue page in a real browser', () => {
  let testbed: MtaTestbed | undefined;
  let context: BrowserContext;
  let page: Page;
  const profile = temporaryDirectory();
  const webBuild = temporaryDirectory();

  beforeAll(async () => {
    requireTool('/usr/bin/chromium', 'apt-get install chromium');
    // Its own build of the UI: other tests may be rebuilding dist/ at the same time.
    execFileSync(process.execPath, [join(appRoot, 'scripts/build-web.mjs'), webBuild.path]);
    mkdirSync(artifacts, { recursive: true });
    testbed = await startMtaTestbed({}, { webRoot: webBuild.path });
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
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    await testbed?.stop();
    profile.remove();
    webBuild.remove();
  });

  const send = (to: string, subject = 'Weekly report') =>
    relayMessage(testbed?.harness.smtpPort ?? 0, to, subject);

  /** Sends one message and waits until the queue shows it delivered; its queue id. */
  async function sendDelivered(to: string, subject: string): Promise<string> {
    const id = await send(to, subject);
    await expect
      .poll(async () => {
        const shown = await (await fetch(`${testbed?.harness.baseUrl}/api/v1/queue/messages/${id}`)).json();
        return shown.deliveries[0]?.status;
      })
      .toBe('delivered');
    return id;
  }

  it('shows a deferred delivery live with its attempt and transcript; retry now, hold and release act on it', async () => {
    await page.goto(`${testbed?.harness.baseUrl}/#/queue`);
    await page.locator('.pages .page-link.is-current', { hasText: 'Queue' }).waitFor();
    await page.getByText('The queue is empty').waitFor();
    await page.locator('.live.is-live').waitFor();

    // Live: the message is queued and tried while the page is open.
    await send('temp-slow@remote.test');
    const row = page.locator('.queue-row', { hasText: 'temp-slow@remote.test' });
    await row.waitFor();
    await row.locator('.status-queued').waitFor();
    expect(await row.textContent()).toContain('app@sender.test');
    await row.locator('a').click();
    await page.locator('h1.subject', { hasText: 'Weekly report' }).waitFor();

    // The attempt: time, MX host, TLS, the remote's reply, the transcript.
    const attempts = page.locator('.attempts .attempt');
    await attempts.first().waitFor();
    const first = attempts.first();
    expect(await first.locator('.status').textContent()).toBe('deferred');
    expect(await first.locator('.mx-host').textContent()).toBe('mx.remote.test');
    expect(await first.locator('.reply').textContent()).toBe('450 4.2.0 Mailbox busy, try later');
    expect(await first.locator('time').getAttribute('datetime')).toMatch(/^\d{4}-\d\d-\d\dT/);
    await first.locator('.transcript summary').click();
    const transcript = (await first.locator('.transcript pre').textContent()) ?? '';
    expect(transcript).toContain('RCPT TO:<temp-slow@remote.test>');
    expect(transcript).toContain('450 4.2.0');
    const delivery = page.locator('.deliveries tbody tr');
    expect(await delivery.locator('.status').textContent()).toBe('queued');
    expect(await delivery.locator('td').nth(3).textContent()).toMatch(/^in \d/);
    await page.screenshot({ path: join(artifacts, 'queue-deferred.png') });

    // Retry now: tried again at once; the second attempt shows up through the event stream.
    await page.locator('.message-actions button', { hasText: 'Retry now' }).click();
    await page.getByRole('status').filter({ hasText: 'Retry now: 1 delivery changed' }).waitFor();
    await page.locator('.attempts .attempt').nth(1).waitFor();
    await expect.poll(() => delivery.locator('td').nth(2).textContent()).toBe('2');

    // Hold: the delivery and the list row say so; release (the u key) queues it again.
    await page.locator('.message-actions button', { hasText: 'Hold' }).click();
    await page.getByRole('status').filter({ hasText: 'Hold: 1 delivery changed' }).waitFor();
    await delivery.locator('.status-held').waitFor();
    await row.locator('.status-held').waitFor();
    expect(await page.locator('.message-actions button', { hasText: 'Hold' }).isDisabled()).toBe(true);
    await page.screenshot({ path: join(artifacts, 'queue-held.png') });

    // The state filter: held shows it, delivered does not.
    await page.locator('select[aria-label="Filter by state"]').selectOption('delivered');
    await page.getByText('No delivery matches the filter.').waitFor();
    await page.locator('select[aria-label="Filter by state"]').selectOption('held');
    await row.waitFor();

    await page.locator('body').click({ position: { x: 5, y: 300 } });
    await page.keyboard.press('u');
    await page.getByRole('status').filter({ hasText: 'Release: 1 delivery changed' }).waitFor();
    // Released is due at once: a third attempt, deferred again.
    await page.locator('.attempts .attempt').nth(2).waitFor();
  });

  it('lists, adds and removes suppressions', async () => {
    await page.locator('.pages .page-link', { hasText: 'Suppressions' }).click();
    await page.getByText('No address is suppressed.').waitFor();
    await page.getByLabel('Address').fill('unsubscribed@remote.test');
    await page.getByLabel('Reason').fill('asked to stop');
    await page.getByRole('button', { name: 'Suppress' }).click();
    const entry = page.locator('tr[data-address="unsubscribed@remote.test"]');
    await entry.waitFor();
    expect(await entry.textContent()).toContain('asked to stop');
    expect(await entry.textContent()).toContain('operator');
    await page.screenshot({ path: join(artifacts, 'suppressions.png') });
    const listed = await (await fetch(`${testbed?.harness.baseUrl}/api/v1/suppressions`)).json();
    expect(listed.suppressions.map((suppression: { address: string }) => suppression.address)).toEqual([
      'unsubscribed@remote.test',
    ]);
    await entry.getByRole('button', { name: 'Remove' }).click();
    await page.getByText('No address is suppressed.').waitFor();
    const after = await (await fetch(`${testbed?.harness.baseUrl}/api/v1/suppressions`)).json();
    expect(after.suppressions).toEqual([]);
  });

  it('the Queue page retries every queued delivery at once, and purges the finished mail', async () => {
    const baseUrl = testbed?.harness.baseUrl ?? '';
    await sendDelivered('carol@remote.test', 'Done and purged');
    await page.goto(`${baseUrl}/#/queue`);
    const done = page.locator('.queue-row', { hasText: 'carol@remote.test' });
    await done.waitFor();
    // The domain filter: nothing goes to nowhere.test; remote.test has both messages.
    const domainFilter = page.getByLabel('Filter by domain');
    await domainFilter.fill('nowhere.test');
    await page.getByText('No delivery matches the filter.').waitFor();
    await domainFilter.fill('Remote.test');
    await done.waitFor();
    // temp-slow@ from the first test is still queued (its MX answers 450): retried, to remote.test.
    await page.getByRole('button', { name: 'Retry queued now' }).click();
    await page.getByRole('status').filter({ hasText: 'Retry now: 1 of 1 queued delivery changed' }).waitFor();
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Purge finished' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: /^Purged [1-9]\d* finished messages?$/ })
      .waitFor();
    await done.waitFor({ state: 'detached' });
    await page.locator('.queue-row', { hasText: 'temp-slow@remote.test' }).waitFor();
    await page.screenshot({ path: join(artifacts, 'queue-purged.png') });
  });

  it("the inbox's Delete finished removes delivered mail and keeps what the queue still owes", async () => {
    const baseUrl = testbed?.harness.baseUrl ?? '';
    const doneId = await sendDelivered('bob@remote.test', 'Sent and done');
    await page.goto(`${baseUrl}/#/`);
    await page.locator('.message-row', { hasText: 'Sent and done' }).waitFor();
    await page.locator('.message-row', { hasText: 'Weekly report' }).waitFor();
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Delete finished' }).click();
    await expect.poll(() => page.locator('.message-row').count(), { timeout: 5000 }).toBe(1);
    // The deferred one from the first test: still queued, still listed.
    expect(await page.locator('.message-row').first().textContent()).toContain('Weekly report');
    expect((await fetch(`${baseUrl}/api/v1/queue/messages/${doneId}`)).status).toBe(404);
  });
});
