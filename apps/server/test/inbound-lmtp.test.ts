import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type DovecotInstance, requireTool, startDovecot } from '@smtp/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { temporaryDirectory } from './support/messages.js';
import { type MtaTestbed, startMtaTestbed } from './support/mta-testbed.js';
import { runProcess } from './support/run-process.js';

const python = requireTool('/usr/bin/python3', 'apt-get install -y python3');
const swaks = requireTool(
  'swaks',
  'apt-get install -y swaks libnet-ssleay-perl libio-socket-ssl-perl libauthen-sasl-perl',
);

interface InboundDetail {
  deliveries: { recipient: string; status: string; via: string | null; lastStatus: string | null }[];
}

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
  const prefix = delivered.subarray(0, offset).toString('latin1');
  return prefix
    .split(/\r\n(?![ \t])/)
    .filter((field) => field !== '')
    .map((field) => field.slice(0, field.indexOf(':')));
}

describe('inbound MX → LMTP → a real Dovecot, read back over IMAP', () => {
  let dovecot: DovecotInstance;
  let testbed: MtaTestbed;
  const files = temporaryDirectory();
  let mxPort = 0;

  beforeAll(async () => {
    dovecot = await startDovecot({
      users: [
        { address: 'alice@example.test', password: 'alice-imap' },
        { address: 'bob@example.test', password: 'bob-imap' },
      ],
    });
    testbed = await startMtaTestbed(
      {
        'quarantine.test': { txt: ['v=spf1 -all'] },
        '_dmarc.quarantine.test': { txt: ['v=DMARC1; p=quarantine'] },
      },
      {
        mta: {
          hostname: 'mx.local.test',
          localDomains: ['example.test'],
          relayNetworks: [],
          dkim: { enabled: false },
          listeners: [{ role: 'mx', host: '127.0.0.1', port: 0 }],
        },
        inbound: {
          // carol exists here but not in Dovecot: the LMTP server refuses her after the data.
          mailboxes: ['alice@example.test', 'bob@example.test', 'carol@example.test'],
          delivery: { transport: 'lmtp', host: '127.0.0.1', port: dovecot.lmtpPort },
        },
      },
    );
    const listener = testbed.harness.app.mtaListeners.find((candidate) => candidate.role === 'mx');
    if (listener === undefined) throw new Error('no mx listener');
    mxPort = listener.address.port;
  }, 60_000);
  afterAll(async () => {
    await testbed?.stop();
    await dovecot?.stop();
    files.remove();
  });

  it('delivers per recipient over LMTP: alice and bob+tag get the message byte for byte, carol fails 5.1.1 and the sender gets a DSN', async () => {
    const message = [
      'From: Sender <sender@remote.test>',
      'To: Alice <alice@example.test>',
      'Subject: over LMTP',
      'Date: Sun, 06 Dec 2026 10:00:00 +0000',
      'Message-ID: <over-lmtp@remote.test>',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
      '',
      'Grüße über LMTP',
      '.a line that starts with a dot',
      '',
    ].join('\r\n');
    const messageFile = join(files.path, 'lmtp.eml');
    // swaks ends the data with CRLF . CRLF after the file: the file leaves out the last CRLF.
    writeFileSync(messageFile, message.slice(0, -2));
    const sent = await runProcess(swaks, [
      '--server',
      `127.0.0.1:${mxPort}`,
      '--ehlo',
      'mta.remote.test',
      '--from',
      'sender@remote.test',
      '--to',
      'alice@example.test,bob+tag@example.test,carol@example.test',
      '--data',
      `@${messageFile}`,
    ]);
    expect(sent.stdout).toMatch(/<- {2}250 2\.0\.0 Queued as (\S+)/);
    const id = /Queued as (\S+)/.exec(sent.stdout)?.[1] as string;

    const deadline = Date.now() + 60_000;
    let detail: InboundDetail;
    for (;;) {
      detail = (await (
        await fetch(`${testbed.harness.baseUrl}/api/v1/inbound/${id}`)
      ).json()) as InboundDetail;
      if (detail.deliveries.every(({ status }) => status === 'delivered' || status === 'failed')) break;
      if (Date.now() > deadline)
        throw new Error(`deliveries not final after 60 s: ${JSON.stringify(detail)}\n${dovecot.log()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const via = `lmtp:127.0.0.1:${dovecot.lmtpPort}`;
    expect(
      detail.deliveries.map(({ recipient, status, via: where, lastStatus }) => ({
        recipient,
        status,
        where,
        lastStatus,
      })),
    ).toEqual([
      { recipient: 'alice@example.test', status: 'delivered', where: via, lastStatus: '2.0.0' },
      { recipient: 'bob@example.test', status: 'delivered', where: via, lastStatus: '2.0.0' },
      { recipient: 'carol@example.test', status: 'failed', where: via, lastStatus: '5.1.1' },
    ]);

    const original = Buffer.from(message, 'utf8');
    for (const [user, password] of [
      ['alice@example.test', 'alice-imap'],
      ['bob@example.test', 'bob-imap'],
    ] as const) {
      const [delivered, ...others] = await imapMessages(dovecot.imapPort, user, password);
      expect(others).toEqual([]);
      // Dovecot, the final delivery agent, adds Return-Path and its Received; ours is next, then the
      // checks' Authentication-Results. With several recipients in one transaction it writes no
      // Delivered-To (see the next test).
      expect(addedFieldNames(delivered as Buffer, original)).toEqual([
        'Return-Path',
        'Received',
        'Received',
        'Authentication-Results',
      ]);
      const text = (delivered as Buffer).toString('latin1');
      expect(text).toMatch(/^Return-Path: <sender@remote\.test>\r\n/);
      expect(text).toContain(`by mx.local.test with ESMTP id ${id}`);
    }

    // carol's refusal after the data is a failure report to the sender, through the outbound queue.
    const [report] = await testbed.remote.waitForMessages(1);
    expect(report?.from).toBe('<>');
    expect(report?.to).toEqual(['sender@remote.test']);
    expect(report?.data).toMatch(/Final-Recipient: rfc822; ?carol@example\.test/);
    expect(report?.data).toMatch(/Status: 5\.1\.1/);
  }, 120_000);

  it('a message for one mailbox gets Delivered-To from Dovecot as well', async () => {
    const message =
      'From: sender@remote.test\r\nTo: alice@example.test\r\nSubject: only alice\r\n\r\nHello Alice\r\n';
    const script = `
import smtplib, sys, json
message = sys.stdin.buffer.read()
with smtplib.SMTP('127.0.0.1', ${mxPort}, local_hostname='mta.remote.test') as smtp:
    print(json.dumps(smtp.sendmail('sender@remote.test', ['alice+x@example.test'], message)))
`;
    const sent = await runProcess(python, ['-c', script], { input: Buffer.from(message) });
    expect(sent.stderr).toBe('');
    const deadline = Date.now() + 60_000;
    let messages: Buffer[] = [];
    while (messages.length < 2) {
      if (Date.now() > deadline)
        throw new Error(`alice has ${messages.length} messages after 60 s:\n${dovecot.log()}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
      messages = await imapMessages(dovecot.imapPort, 'alice@example.test', 'alice-imap');
    }
    const delivered = messages[1] as Buffer;
    expect(addedFieldNames(delivered, Buffer.from(message))).toEqual([
      'Return-Path',
      'Delivered-To',
      'Received',
      'Received',
      'Authentication-Results',
    ]);
    expect(delivered.toString('latin1')).toMatch(
      /^Return-Path: <sender@remote\.test>\r\nDelivered-To: alice@example\.test\r\n/,
    );
  }, 120_000);

  it('a DMARC p=quarantine failure reaches Dovecot flagged X-Spam-Flag: YES (for its sieve to file)', async () => {
    const message =
      'From: news@quarantine.test\r\nTo: bob@example.test\r\nSubject: quarantined over LMTP\r\n\r\nBuy now\r\n';
    const script = `
import smtplib, sys, json
message = sys.stdin.buffer.read()
with smtplib.SMTP('127.0.0.1', ${mxPort}, local_hostname='mta.remote.test') as smtp:
    print(json.dumps(smtp.sendmail('news@quarantine.test', ['bob@example.test'], message)))
`;
    const sent = await runProcess(python, ['-c', script], { input: Buffer.from(message) });
    expect(sent.stderr).toBe('');
    const deadline = Date.now() + 60_000;
    let delivered: Buffer | undefined;
    while (delivered === undefined) {
      if (Date.now() > deadline)
        throw new Error(`bob has no quarantined message after 60 s:\n${dovecot.log()}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
      delivered = (await imapMessages(dovecot.imapPort, 'bob@example.test', 'bob-imap')).find((bytes) =>
        bytes.includes('Subject: quarantined over LMTP'),
      );
    }
    expect(addedFieldNames(delivered, Buffer.from(message))).toEqual([
      'Return-Path',
      'Delivered-To',
      'Received',
      'Received',
      'X-Spam-Flag',
      'Authentication-Results',
    ]);
    expect(delivered.toString('latin1')).toMatch(/\r\nX-Spam-Flag: YES\r\n/);
    expect(delivered.toString('latin1')).toMatch(/\tdmarc=fail [^\r\n]*header\.from=quarantine\.test/);
  }, 120_000);
});
