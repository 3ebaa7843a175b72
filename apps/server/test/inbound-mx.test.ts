import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireTool } from '@smtp/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { temporaryDirectory } from './support/messages.js';
import { type MtaTestbed, startMtaTestbed } from './support/mta-testbed.js';
import { runProcess } from './support/run-process.js';

const python = requireTool('/usr/bin/python3', 'apt-get install -y python3');
const swaks = requireTool(
  'swaks',
  'apt-get install -y swaks libnet-ssleay-perl libio-socket-ssl-perl libauthen-sasl-perl',
);

/** A message as another MTA would relay it: complete headers, a dot line, 8-bit text, no final fix-ups needed. */
function relayedMessage(subject: string): string {
  return [
    'From: Sender <sender@remote.test>',
    'To: Alice <alice@example.test>',
    `Subject: ${subject}`,
    'Date: Sun, 06 Dec 2026 10:00:00 +0000',
    `Message-ID: <${subject.replaceAll(' ', '-')}@remote.test>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    'Grüße aus der Ferne',
    '.a line that starts with a dot',
    '',
  ].join('\r\n');
}

/** The Maildir files of a mailbox, waiting until there are `count` (delivery runs after the 250). */
async function waitForMaildir(directory: string, count: number): Promise<string[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    let names: string[] = [];
    try {
      names = readdirSync(join(directory, 'new')).sort();
    } catch {
      // not created yet
    }
    if (names.length >= count)
      return names.map((name) => readFileSync(join(directory, 'new', name), 'latin1'));
    if (Date.now() > deadline)
      throw new Error(`${directory}: ${names.length} of ${count} messages after 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Our Received line as the mx listener writes it (no AUTH: ESMTP or ESMTPS). */
const receivedLine = (helo: string, forRecipient: string | null) =>
  `Received: from ${helo} \\(${helo} \\[127\\.0\\.0\\.1\\]\\)\\r\\n` +
  `(?:\\t\\(using TLSv1\\.[23] with cipher [A-Z0-9_-]+\\)\\r\\n)?` +
  `\\tby mx\\.local\\.test with ESMTPS? id [0-9A-Za-z]+` +
  (forRecipient === null ? ';' : `\\r\\n\\tfor <${forRecipient.replaceAll('.', '\\.')}>;`) +
  `\\r\\n\\t\\w{3}, \\d{2} \\w{3} \\d{4} \\d{2}:\\d{2}:\\d{2} \\+0000\\r\\n`;

/** The inbound checks' Authentication-Results (RFC 8601), folded one result a line after ours. */
const authenticationResultsLine = 'Authentication-Results: mx\\.local\\.test;(?:\\r\\n\\t[^\\r\\n]*)+\\r\\n';

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('inbound MX: mx listener → recipient checks → queue → Maildir / forward', () => {
  let testbed: MtaTestbed;
  const files = temporaryDirectory();
  const maildirs = join(files.path, 'maildir');
  let mxPort = 0;

  beforeAll(async () => {
    testbed = await startMtaTestbed(
      {},
      {
        mta: {
          hostname: 'mx.local.test',
          localDomains: ['example.test', 'catch.test'],
          // 127.0.0.1 (every client here) is outside: no relaying for it.
          relayNetworks: ['127.0.0.9/32'],
          dkim: { enabled: false },
          listeners: [{ role: 'mx', host: '127.0.0.1', port: 0 }],
        },
        inbound: {
          mailboxes: ['alice@example.test', 'bob@example.test', 'carol@catch.test'],
          aliases: {
            'team@example.test': ['alice@example.test', 'bob@example.test'],
            'fwd@example.test': ['partner@remote.test'],
            'postmaster@example.test': ['alice@example.test'],
          },
          catchAll: { 'catch.test': 'carol@catch.test' },
          delivery: { transport: 'maildir', directory: maildirs },
          srs: { secret: 'inbound-mx test secret' },
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

  it('swaks: STARTTLS offered, no AUTH; the message lands in the Maildir byte for byte after Return-Path, Delivered-To and Received', async () => {
    const message = relayedMessage('maildir exact');
    const messageFile = join(files.path, 'maildir-exact.eml');
    // swaks ends the data with CRLF . CRLF after the file: the file leaves out the last CRLF.
    writeFileSync(messageFile, message.slice(0, -2));
    const ehlo = await runProcess(swaks, [
      '--server',
      `127.0.0.1:${mxPort}`,
      '--ehlo',
      'mta.remote.test',
      '--quit-after',
      'EHLO',
    ]);
    expect(ehlo.stdout).toMatch(/<- {2}250-STARTTLS/);
    expect(ehlo.stdout).not.toMatch(/AUTH/);

    const result = await runProcess(swaks, [
      '--server',
      `127.0.0.1:${mxPort}`,
      '--ehlo',
      'mta.remote.test',
      '--from',
      'sender@remote.test',
      '--to',
      'alice@example.test',
      '--data',
      `@${messageFile}`,
    ]);
    expect(result.stdout).toMatch(/<- {2}250 2\.0\.0 Queued as/);

    const [stored] = await waitForMaildir(join(maildirs, 'example.test', 'alice'), 1);
    const expected = new RegExp(
      '^Return-Path: <sender@remote\\.test>\\r\\n' +
        'Delivered-To: alice@example\\.test\\r\\n' +
        receivedLine('mta\\.remote\\.test', 'alice@example.test') +
        authenticationResultsLine +
        `${escapeRegExp(Buffer.from(message, 'utf8').toString('latin1'))}$`,
    );
    expect(stored).toMatch(expected);
    // Written to tmp/, linked into new/, nothing left behind in tmp/.
    expect(readdirSync(join(maildirs, 'example.test', 'alice', 'tmp'))).toEqual([]);
  });

  it('smtplib: unknown users get 550 5.1.1 at RCPT, other domains 550 5.7.1 (no open relay), and a message with none left is refused', async () => {
    const script = `
import smtplib, json
with smtplib.SMTP('127.0.0.1', ${mxPort}, local_hostname='mta.remote.test') as smtp:
    smtp.ehlo()
    features = {'auth': smtp.has_extn('auth'), 'starttls': smtp.has_extn('starttls')}
    smtp.mail('spammer@remote.test')
    unknown = smtp.rcpt('nobody@example.test')
    unknown_tag = smtp.rcpt('nobody+x@example.test')
    relay = smtp.rcpt('victim@elsewhere.test')
    relay_remote = smtp.rcpt('partner@remote.test')
    data = smtp.docmd('DATA')
    print(json.dumps({'features': features, 'replies': [[code, text.decode()] for code, text in [unknown, unknown_tag, relay, relay_remote, data]]}))
`;
    const result = await runProcess(python, ['-c', script]);
    expect(result.stderr).toBe('');
    const outcome = JSON.parse(result.stdout) as { features: object; replies: [number, string][] };
    expect(outcome.features).toEqual({ auth: false, starttls: true });
    expect(outcome.replies).toEqual([
      [550, '5.1.1 <nobody@example.test>: User unknown in local recipient table'],
      [550, '5.1.1 <nobody+x@example.test>: User unknown in local recipient table'],
      [550, '5.7.1 Relay access denied'],
      [550, '5.7.1 Relay access denied'],
      [554, '5.5.1 No valid recipients'],
    ]);
  });

  it('aliases, sub-addresses and catch-all: one copy per mailbox, Delivered-To names it', async () => {
    const message = relayedMessage('alias fan-out');
    const script = `
import smtplib, sys, json
message = sys.stdin.buffer.read()
with smtplib.SMTP('127.0.0.1', ${mxPort}, local_hostname='mta.remote.test') as smtp:
    refused = smtp.sendmail('sender@remote.test', ['team@example.test', 'Bob+News@example.test', 'whoever@catch.test'], message)
    print(json.dumps(refused))
`;
    const result = await runProcess(python, ['-c', script], { input: Buffer.from(message) });
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({});
    const [forAlice] = (await waitForMaildir(join(maildirs, 'example.test', 'alice'), 2)).filter((text) =>
      text.includes('Subject: alias fan-out'),
    );
    const forBob = await waitForMaildir(join(maildirs, 'example.test', 'bob'), 1);
    const forCarol = await waitForMaildir(join(maildirs, 'catch.test', 'carol'), 1);
    const tail = `${receivedLine('mta\\.remote\\.test', null)}${authenticationResultsLine}${escapeRegExp(Buffer.from(message, 'utf8').toString('latin1'))}$`;
    expect(forAlice).toMatch(
      new RegExp(`^Return-Path: <sender@remote\\.test>\\r\\nDelivered-To: alice@example\\.test\\r\\n${tail}`),
    );
    // team@ and bob+news@ both reach bob: delivered once.
    expect(forBob).toHaveLength(1);
    expect(forBob[0]).toMatch(
      new RegExp(`^Return-Path: <sender@remote\\.test>\\r\\nDelivered-To: bob@example\\.test\\r\\n${tail}`),
    );
    expect(forCarol[0]).toMatch(/^Return-Path: <sender@remote\.test>\r\nDelivered-To: carol@catch\.test\r\n/);
    // Nothing was bounced: no report went out to the sender.
    expect(testbed.remote.messages.filter((entry) => entry.from === '<>' || entry.from === '')).toEqual([]);
  });

  it('forwards to an external address with an SRS0 sender, and a bounce to that address reaches the original sender', async () => {
    const message = relayedMessage('forwarded');
    const send = (from: string, to: string, body: string) =>
      runProcess(
        python,
        [
          '-c',
          `
import smtplib, sys, json
message = sys.stdin.buffer.read()
with smtplib.SMTP('127.0.0.1', ${mxPort}, local_hostname='mta.remote.test') as smtp:
    print(json.dumps(smtp.sendmail(${JSON.stringify(from)}, [${JSON.stringify(to)}], message)))
`,
        ],
        { input: Buffer.from(body) },
      );
    const before = testbed.remote.messages.length;
    const sent = await send('sender@remote.test', 'fwd@example.test', message);
    expect(sent.stderr).toBe('');
    const [forwarded] = (await testbed.remote.waitForMessages(before + 1)).slice(before);
    expect(forwarded?.to).toEqual(['partner@remote.test']);
    expect(forwarded?.from).toMatch(/^SRS0=[^=]{4}=[A-Z2-7]{2}=remote\.test=sender@example\.test$/);
    // The message as received, after our Received line (aiosmtpd may show line ends as LF).
    expect(forwarded?.data.replaceAll('\r\n', '\n').endsWith(message.replaceAll('\r\n', '\n'))).toBe(true);

    // The destination bounces to the SRS address: our MX takes it and sends it on to sender@remote.test.
    const bounce = relayedMessage('bounce of forwarded');
    const bounced = await send('', forwarded?.from as string, bounce);
    expect(bounced.stderr).toBe('');
    const [returned] = (await testbed.remote.waitForMessages(before + 2)).slice(before + 1);
    expect(returned?.to).toEqual(['sender@remote.test']);
    expect(returned?.from).toBe('<>');
    // A made-up SRS address is an unknown user, not an open relay.
    const forged = await send('', 'SRS0=abcd=AA=remote.test=victim@example.test', bounce);
    expect(forged.stderr).toMatch(/550.*5\.1\.1/);
  });

  it('GET /api/v1/inbound lists what arrived; /api/v1/inbound/{id} shows the envelope, the expansion and where each delivery went', async () => {
    const page = (await (await fetch(`${testbed.harness.baseUrl}/api/v1/inbound?limit=100`)).json()) as {
      messages: { messageId: string; sender: string; recipients: { recipient: string }[] }[];
    };
    const fanOut = page.messages.find((entry) =>
      entry.recipients.some(({ recipient }) => recipient === 'team@example.test'),
    );
    expect(fanOut).toBeDefined();
    const detail = (await (
      await fetch(`${testbed.harness.baseUrl}/api/v1/inbound/${fanOut?.messageId}`)
    ).json()) as {
      sender: string;
      client: { address: string; helo: string };
      recipients: { recipient: string; targets: { kind: string; address: string }[] }[];
      deliveries: { recipient: string; status: string; via: string | null; detail: string | null }[];
    };
    expect(detail.sender).toBe('sender@remote.test');
    expect(detail.client).toMatchObject({ address: '127.0.0.1', helo: 'mta.remote.test' });
    expect(detail.recipients).toEqual([
      {
        recipient: 'team@example.test',
        targets: [
          { kind: 'mailbox', address: 'alice@example.test' },
          { kind: 'mailbox', address: 'bob@example.test' },
        ],
      },
      { recipient: 'Bob+News@example.test', targets: [{ kind: 'mailbox', address: 'bob@example.test' }] },
      { recipient: 'whoever@catch.test', targets: [{ kind: 'mailbox', address: 'carol@catch.test' }] },
    ]);
    expect(detail.deliveries.map(({ recipient, status, via }) => ({ recipient, status, via }))).toEqual([
      { recipient: 'alice@example.test', status: 'delivered', via: 'maildir' },
      { recipient: 'bob@example.test', status: 'delivered', via: 'maildir' },
      { recipient: 'carol@catch.test', status: 'delivered', via: 'maildir' },
    ]);
    for (const delivery of detail.deliveries)
      expect(readFileSync(delivery.detail as string, 'latin1')).toContain('Subject: alias fan-out');
    const missing = await fetch(`${testbed.harness.baseUrl}/api/v1/inbound/no-such-id`);
    expect(missing.status).toBe(404);
    const openApi = (await (await fetch(`${testbed.harness.baseUrl}/api/v1/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
      components: { schemas: Record<string, unknown> };
    };
    expect(Object.keys(openApi.paths)).toEqual(
      expect.arrayContaining(['/api/v1/inbound', '/api/v1/inbound/{id}']),
    );
    expect(Object.keys(openApi.components.schemas)).toEqual(
      expect.arrayContaining(['InboundPage', 'InboundMessage', 'InboundDelivery']),
    );
  });

  it('takes the bare <Postmaster> (RFC 5321 §4.5.1) for postmaster@ the first local domain', async () => {
    const aliceBefore = readdirSync(join(maildirs, 'example.test', 'alice', 'new')).length;
    const script = `
import smtplib, json
with smtplib.SMTP('127.0.0.1', ${mxPort}, local_hostname='mta.remote.test') as smtp:
    print(json.dumps(smtp.sendmail('sender@remote.test', ['Postmaster'], b'Subject: to the postmaster\\r\\n\\r\\nhi\\r\\n')))
`;
    const result = await runProcess(python, ['-c', script]);
    expect(result.stderr).toBe('');
    const messages = await waitForMaildir(join(maildirs, 'example.test', 'alice'), aliceBefore + 1);
    expect(messages.filter((text) => text.includes('Subject: to the postmaster'))).toHaveLength(1);
  });
});
