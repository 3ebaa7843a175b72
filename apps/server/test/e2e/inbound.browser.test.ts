import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from '@smtp/client';
import { requireTool } from '@smtp/test-support';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dkimPublicKeyValue } from '../../src/dkim/dkim-keys.js';
import { signMessage } from '../../src/dkim/dkim-signer.js';
import { temporaryDirectory } from '../support/messages.js';
import { type MtaTestbed, startMtaTestbed } from '../support/mta-testbed.js';

const appRoot = join(dirname(fileURLToPath(import.meta.url)), '../..');
const artifacts = join(appRoot, 'test-artifacts');
const originKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;

// The Inbound page in Chromium: a DKIM-signed message sent to the app's mx listener (the DNS stub
// publishes the key, SPF and DMARC) shows up with its verdicts, expansion and Maildir delivery.
describe('inbound page in a real browser', () => {
  let testbed: MtaTestbed | undefined;
  let context: BrowserContext;
  let page: Page;
  let mxPort = 0;
  const profile = temporaryDirectory();
  const webBuild = temporaryDirectory();
  const files = temporaryDirectory();

  beforeAll(async () => {
    requireTool('/usr/bin/chromium', 'apt-get install chromium');
    // Its own build of the UI: other tests may be rebuilding dist/ at the same time.
    execFileSync(process.execPath, [join(appRoot, 'scripts/build-web.mjs'), webBuild.path]);
    mkdirSync(artifacts, { recursive: true });
    testbed = await startMtaTestbed(
      {
        'origin.test': { txt: ['v=spf1 ip4:127.0.0.0/8 -all'] },
        '_dmarc.origin.test': { txt: ['v=DMARC1; p=reject'] },
        'sel1._domainkey.origin.test': { txt: [`v=DKIM1; k=rsa; p=${dkimPublicKeyValue(originKey)}`] },
      },
      {
        mta: {
          hostname: 'mx.local.test',
          localDomains: ['example.test'],
          relayNetworks: ['127.0.0.9/32'],
          dkim: { enabled: false },
          listeners: [{ role: 'mx', host: '127.0.0.1', port: 0 }],
        },
        inbound: {
          mailboxes: ['alice@example.test'],
          aliases: { 'team@example.test': ['alice@example.test'] },
          delivery: { transport: 'maildir', directory: join(files.path, 'maildir') },
        },
        webRoot: webBuild.path,
      },
    );
    const listener = testbed.harness.app.mtaListeners.find((candidate) => candidate.role === 'mx');
    if (listener === undefined) throw new Error('no mx listener');
    mxPort = listener.address.port;
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
    files.remove();
  });

  it('lists the signed message with dkim=pass and shows each check, the expansion and the Maildir delivery', async () => {
    const raw = Buffer.from(
      [
        'From: Alice Origin <alice@origin.test>',
        'To: team@example.test',
        'Subject: Signed for the inbound page',
        'Date: Sun, 06 Dec 2026 10:00:00 +0000',
        'Message-ID: <inbound-page@origin.test>',
        '',
        'Hello team.',
        '',
      ].join('\r\n'),
    );
    const signature = signMessage(raw, {
      domain: 'origin.test',
      keys: [{ selector: 'sel1', privateKey: originKey }],
      now: Date.now(),
    });
    const client = createClient({ host: '127.0.0.1', port: mxPort, starttls: 'never', pool: false });
    try {
      await client.send({
        from: 'alice@origin.test',
        to: ['team@example.test'],
        message: Buffer.concat([Buffer.from(signature, 'latin1'), raw]),
      });
    } finally {
      await client.close();
    }

    await page.goto(`${testbed?.harness.baseUrl}/#/inbound`);
    await page.locator('.pages .page-link.is-current', { hasText: 'Inbound' }).waitFor();
    const row = page.locator('.inbound-row', { hasText: 'alice@origin.test' });
    await row.waitFor();
    expect(await row.locator('.recipients').textContent()).toBe('team@example.test');
    expect(await row.locator('.verdict[data-check="dkim"]').textContent()).toBe('dkim=pass');
    expect(await row.locator('.verdict[data-check="spf"]').textContent()).toBe('spf=pass');
    expect(await row.locator('.verdict[data-check="dmarc"]').textContent()).toBe('dmarc=pass');
    expect(await row.locator('.decision').textContent()).toBe('accept');
    expect(await row.textContent()).toContain('127.0.0.1');
    await page.screenshot({ path: join(artifacts, 'inbound-list.png') });

    await row.locator('a').click();
    const dkim = page.locator('.checks tr[data-check="dkim"]');
    await dkim.waitFor();
    expect(await dkim.locator('.result').textContent()).toBe('pass');
    expect(await dkim.locator('.reason').textContent()).toMatch(/^d=origin\.test s=sel1/);
    expect(await page.locator('.checks tr[data-check="dmarc"] .reason').textContent()).toContain(
      'policy reject',
    );
    expect(await page.locator('.expansions').textContent()).toContain('mailbox alice@example.test');
    const delivery = page.locator('.inbound-deliveries tr[data-recipient="alice@example.test"]');
    // Delivered (the page shows it on reload): a Maildir delivery names its file.
    await expect
      .poll(async () => {
        await page.reload();
        return delivery.locator('.destination').textContent({ timeout: 10_000 });
      })
      .toMatch(/^Maildir .*maildir\/example\.test\/alice\/new\//);
    expect(await delivery.locator('.status').textContent()).toBe('delivered');
    await page.screenshot({ path: join(artifacts, 'inbound-message.png') });
  });
});
