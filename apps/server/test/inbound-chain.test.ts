import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type DnsStub,
  type DovecotInstance,
  requireTool,
  startDnsStub,
  startDovecot,
} from '@smtp/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dkimPublicKeyValue } from '../src/dkim/dkim-keys.js';
import { startTestApp } from './support/app-harness.js';
import { runProcess } from './support/run-process.js';

// The whole chain of issue 16 over real sockets: app A (MTA mode) takes a submission on its relay
// listener, DKIM-signs it and delivers to the MX the DNS stub names for example.test; that MX is app
// B's mx listener on 127.0.0.3, which checks SPF, DKIM and DMARC and hands the message over LMTP to a
// real Dovecot; Python's imaplib reads it back.
const python = requireTool('/usr/bin/python3', 'apt-get install -y python3');

type TestApp = Awaited<ReturnType<typeof startTestApp>>;

/** Reads one user's INBOX over IMAP with Python's imaplib: each message's bytes, base64 (byte-exact). */
async function imapMessages(port: number, user: string, password: string): Promise<Buffer[]> {
  const script = `
import imaplib, base64, json
imap = imaplib.IMAP4('127.0.0.1', ${port})
imap.login(${JSON.stringify(user)}, ${JSON.stringify(password)})
imap.select('INBOX', readonly=True)
_, numbers = imap.search(None, 'ALL')
messages = []
for number in numbers[0].split():
    _, data = imap.fetch(number, '(BODY.PEEK[])')
    messages.append(base64.b64encode(data[0][1]).decode())
imap.logout()
print(json.dumps(messages))
`;
  const result = await runProcess(python, ['-c', script]);
  if (result.code !== 0) throw new Error(`imaplib failed: ${result.stderr}`);
  return (JSON.parse(result.stdout) as string[]).map((text) => Buffer.from(text, 'base64'));
}

/** The header fields in front of `original` in `delivered`, by name; throws when the rest differs at all. */
function addedFieldNames(delivered: Buffer, original: Buffer): string[] {
  const offset = delivered.length - original.length;
  if (offset < 0 || !delivered.subarray(offset).equals(original))
    throw new Error(
      `the delivered message does not end with the original bytes:\n${delivered.toString('latin1')}`,
    );
  return delivered
    .subarray(0, offset)
    .toString('latin1')
    .split(/\r\n(?![ \t])/)
    .filter((field) => field !== '')
    .map((field) => field.slice(0, field.indexOf(':')));
}

describe('the inbound chain: app A (MTA) → DNS MX → app B (mx, checks) → LMTP → Dovecot → IMAP', () => {
  let dns: DnsStub;
  let dovecot: DovecotInstance;
  let receiver: TestApp;
  let sender: TestApp;

  beforeAll(async () => {
    [dns, dovecot] = await Promise.all([
      startDnsStub({
        'example.test': { mx: [{ preference: 10, exchange: 'mx.example.test' }] },
        'mx.example.test': { a: ['127.0.0.3'] },
        // A connects from 127.0.0.1; its domain's SPF allows the loopback network.
        'sender.test': { txt: ['v=spf1 ip4:127.0.0.0/8 -all'] },
        '_dmarc.sender.test': { txt: ['v=DMARC1; p=reject'] },
      }),
      startDovecot({ users: [{ address: 'alice@example.test', password: 'alice-imap' }] }),
    ]);
    receiver = await startTestApp({
      mode: 'mta',
      mta: {
        hostname: 'mx.example.test',
        localDomains: ['example.test'],
        relayNetworks: [],
        dnsServers: [dns.address],
        dkim: { enabled: false },
        listeners: [{ role: 'mx', host: '127.0.0.3', port: 0 }],
      },
      inbound: {
        mailboxes: ['alice@example.test'],
        delivery: { transport: 'lmtp', host: '127.0.0.1', port: dovecot.lmtpPort },
      },
    });
    const mx = receiver.app.mtaListeners.find((candidate) => candidate.role === 'mx');
    if (mx === undefined) throw new Error('no mx listener');
    sender = await startTestApp({
      mode: 'mta',
      mta: {
        hostname: 'mta.sender.test',
        localDomains: ['sender.test'],
        relayNetworks: ['127.0.0.1/32'],
        listeners: [{ role: 'relay', host: '127.0.0.1', port: 0 }],
        dnsServers: [dns.address],
        deliveryPort: mx.address.port,
        dkim: { enabled: true, rsaSelector: 'rsa1', ed25519Selector: 'ed1' },
      },
    });
    // Publish the keys A made on its first start, as its operator would.
    for (const [selector, algorithm] of [
      ['rsa1', 'rsa'],
      ['ed1', 'ed25519'],
    ] as const) {
      const pem = readFileSync(join(sender.dataDir, 'dkim', `${selector}.${algorithm}.pem`), 'utf8');
      dns.zone.set(`${selector}._domainkey.sender.test`, {
        txt: [`v=DKIM1; k=${algorithm}; p=${dkimPublicKeyValue(createPrivateKey(pem))}`],
      });
    }
  }, 90_000);
  afterAll(async () => {
    await sender?.stop();
    await receiver?.stop();
    await Promise.all([dovecot?.stop(), dns?.close()]);
  });

  it('reaches alice byte for byte, with spf=pass dkim=pass dmarc=pass from B', async () => {
    const message = [
      'From: App <app@sender.test>',
      'To: Alice <alice@example.test>',
      'Subject: the whole chain',
      'Date: Sun, 06 Dec 2026 10:00:00 +0000',
      'Message-ID: <whole-chain@sender.test>',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
      '',
      'Grüße durch die ganze Kette',
      '.a line that starts with a dot',
      '',
    ].join('\r\n');
    const script = `
import smtplib, sys, json
with smtplib.SMTP('127.0.0.1', ${sender.smtpPort}, local_hostname='app.sender.test') as smtp:
    print(json.dumps(smtp.sendmail('app@sender.test', ['alice@example.test'], sys.stdin.buffer.read())))
`;
    const original = Buffer.from(message, 'utf8');
    const submitted = await runProcess(python, ['-c', script], { input: original });
    expect(submitted.stderr).toBe('');
    expect(submitted.stdout.trim()).toBe('{}');

    const deadline = Date.now() + 60_000;
    let messages: Buffer[] = [];
    while (messages.length === 0) {
      if (Date.now() > deadline) throw new Error(`alice has no message after 60 s:\n${dovecot.log()}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
      messages = await imapMessages(dovecot.imapPort, 'alice@example.test', 'alice-imap');
    }
    const [delivered, ...others] = messages as [Buffer, ...Buffer[]];
    expect(others).toEqual([]);
    // Dovecot adds Return-Path, Delivered-To and its Received; B its Received and the checks'
    // Authentication-Results; A its Received and two DKIM signatures (RSA, Ed25519). The rest is the
    // submitted message, byte for byte.
    expect(addedFieldNames(delivered, original)).toEqual([
      'Return-Path',
      'Delivered-To',
      'Received',
      'Received',
      'Authentication-Results',
      'DKIM-Signature',
      'DKIM-Signature',
      'Received',
    ]);
    const text = delivered.toString('latin1');
    expect(text).toMatch(/^Return-Path: <app@sender\.test>\r\nDelivered-To: alice@example\.test\r\n/);
    // B's Received names A's EHLO; A delivered over STARTTLS (ESMTPS).
    expect(text).toMatch(
      /\r\nReceived: from mta\.sender\.test [^\r\n]*(?:\r\n\t[^\r\n]*)*?\r\n\tby mx\.example\.test with ESMTPS /,
    );
    const results = /^Authentication-Results:[^\r\n]*(?:\r\n[ \t][^\r\n]*)*/m.exec(text)?.[0];
    expect(results).toMatch(/^Authentication-Results: mx\.example\.test;\r\n\t/);
    expect(results).toMatch(/\tspf=pass [^\r\n]*smtp\.mailfrom=app@sender\.test/);
    expect(results).toMatch(/\tdkim=pass header\.i=@sender\.test header\.s=rsa1 /);
    expect(results).toMatch(/\tdmarc=pass [^\r\n]*header\.from=sender\.test/);
  }, 120_000);
});
