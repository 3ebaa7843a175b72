import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireTool } from '@smtp/test-support';
import { authenticate } from 'mailauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dkimPublicKeyValue } from '../src/dkim/dkim-keys.js';
import { temporaryDirectory } from './support/messages.js';
import { type MtaTestbed, startMtaTestbed } from './support/mta-testbed.js';
import { runProcess } from './support/run-process.js';

const python = requireTool('/usr/bin/python3', 'apt-get install -y python3');

const message = [
  'From: Sender <sender@remote.test>',
  'To: fwd@example.test',
  'Subject: forwarded with a seal',
  'Date: Sun, 06 Dec 2026 10:00:00 +0000',
  'Message-ID: <sealed-forward@remote.test>',
  '',
  'Hello partner.',
  '',
].join('\r\n');

// ARC on forwards (RFC 8617 §5.1), end to end: smtplib sends to the mx listener, an alias forwards
// to partner@remote.test (aiosmtpd on 127.0.0.2 via the DNS stub) with an SRS sender, and mailauth
// verifies the chain of what arrived against the app's DKIM RSA key.
describe('ARC sealing of forwarded mail', () => {
  let testbed: MtaTestbed;
  const files = temporaryDirectory();
  let mxPort = 0;

  beforeAll(async () => {
    testbed = await startMtaTestbed(
      {},
      {
        mta: {
          hostname: 'mx.local.test',
          localDomains: ['example.test'],
          relayNetworks: ['127.0.0.9/32'],
          dkim: { enabled: true },
          listeners: [{ role: 'mx', host: '127.0.0.1', port: 0 }],
        },
        inbound: {
          mailboxes: ['alice@example.test'],
          aliases: { 'fwd@example.test': ['partner@remote.test', 'alice@example.test'] },
          delivery: { transport: 'maildir', directory: join(files.path, 'maildir') },
          srs: { secret: 'arc forward test secret' },
        },
      },
    );
    const listener = testbed.harness.app.mtaListeners.find((candidate) => candidate.role === 'mx');
    if (listener === undefined) throw new Error('no mx listener');
    mxPort = listener.address.port;
  }, 60_000);
  afterAll(async () => {
    await testbed?.stop();
    files.remove();
  });

  it('the forwarded message carries our ARC set (i=1, d= the local domain, cv=none) and its chain verifies', async () => {
    const sent = await runProcess(
      python,
      [
        '-c',
        `
import smtplib, sys
with smtplib.SMTP('127.0.0.1', ${mxPort}, local_hostname='mta.remote.test') as smtp:
    smtp.sendmail('sender@remote.test', ['fwd@example.test'], sys.stdin.buffer.read())
`,
      ],
      { input: Buffer.from(message) },
    );
    expect(sent.stderr).toBe('');
    const [forwarded] = await testbed.remote.waitForMessages(1);
    expect(forwarded?.to).toEqual(['partner@remote.test']);
    expect(forwarded?.from).toMatch(/^SRS0=/);
    const received = `${forwarded?.data.replaceAll('\r\n', '\n').replaceAll('\n', '\r\n')}`;
    const header = received.slice(0, received.indexOf('\r\n\r\n'));
    expect(header).toMatch(/^ARC-Seal: i=1; a=rsa-sha256; [^\r\n]*(?:\r\n[ \t][^\r\n]*)*/m);
    const seal = /^ARC-Seal:[^\r\n]*(?:\r\n[ \t][^\r\n]*)*/m.exec(header)?.[0].replace(/\s+/g, ' ') ?? '';
    expect(seal).toMatch(/\bd=example\.test;/);
    expect(seal).toMatch(/\bs=rsa1;/);
    expect(seal).toMatch(/\bcv=none;/);
    expect(header).toMatch(/^ARC-Authentication-Results: i=1; mx\.local\.test;/m);

    // The app's DKIM RSA key (made at start) is what a receiver finds at rsa1._domainkey.example.test.
    const key = createPrivateKey(readFileSync(join(testbed.harness.dataDir, 'dkim', 'rsa1.rsa.pem')));
    const resolver = async (name: string, type: string) => {
      if (type === 'TXT' && name === 'rsa1._domainkey.example.test')
        return [[`v=DKIM1; k=rsa; p=${dkimPublicKeyValue(key)}`]];
      throw Object.assign(new Error(`${name} ${type}: not found`), { code: 'ENOTFOUND' });
    };
    const verdict = await authenticate(Buffer.from(received, 'latin1'), {
      ip: '127.0.0.1',
      helo: 'mx.local.test',
      sender: forwarded?.from ?? '',
      mta: 'mx.remote.test',
      resolver,
      disableBimi: true,
    } as Parameters<typeof authenticate>[1]);
    const arc = verdict.arc === false ? null : (verdict.arc as { status: { result: string }; i?: number });
    expect(arc?.status.result).toBe('pass');
    expect(arc?.i).toBe(1);
  }, 60_000);
});
