import { createClient } from '@smtp/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MtaTestbed, startMtaTestbed } from './support/mta-testbed.js';

// What the MTA's web inbox keeps of relayed mail (mta.indexBodies): by default only the header
// section is parsed at receive, so the body is neither searchable nor summarised in the list, yet an
// opened message shows its body and attachments (parsed then). With indexBodies on, the inbox is
// capture mode's: body search, snippet and attachment count at receive. Real sockets: @smtp/client
// relays through the app, which delivers to aiosmtpd.

const boundary = 'scope-boundary';
const message = [
  'From: <app@sender.test>',
  'To: <bob@remote.test>',
  'Subject: =?UTF-8?Q?Caf=C3=A9_report?=',
  'MIME-Version: 1.0',
  `Content-Type: multipart/mixed; boundary="${boundary}"`,
  '',
  `--${boundary}`,
  'Content-Type: text/plain; charset=utf-8',
  '',
  'The quarterly zebracorn figures are attached.',
  `--${boundary}`,
  'Content-Type: text/csv; name="figures.csv"',
  'Content-Disposition: attachment; filename="figures.csv"',
  '',
  'quarter,zebracorns',
  'q1,42',
  `--${boundary}--`,
  '',
].join('\r\n');

interface ListedMessage {
  readonly id: string;
  readonly subject: string;
  readonly snippet: string;
  readonly attachmentCount: number;
  readonly isParsed: boolean;
}

async function relayAndList(testbed: MtaTestbed): Promise<ListedMessage> {
  const client = createClient({
    host: '127.0.0.1',
    port: testbed.harness.smtpPort,
    starttls: 'never',
    pool: false,
  });
  try {
    await client.send({ from: 'app@sender.test', to: 'bob@remote.test', message, dsn: { notify: 'NEVER' } });
  } finally {
    await client.close();
  }
  const response = await fetch(`${testbed.harness.baseUrl}/api/v1/messages?wait=10s`);
  const page = (await response.json()) as { messages: ListedMessage[] };
  const listed = page.messages[0];
  if (listed === undefined) throw new Error('the relayed message was not listed');
  return listed;
}

async function searchTotal(testbed: MtaTestbed, search: string): Promise<number> {
  const response = await fetch(
    `${testbed.harness.baseUrl}/api/v1/messages?search=${encodeURIComponent(search)}`,
  );
  return ((await response.json()) as { total: number }).total;
}

describe('MTA inbox, default (mta.indexBodies off): headers at receive, the body when opened', () => {
  let testbed: MtaTestbed;
  let listed: ListedMessage;

  beforeAll(async () => {
    testbed = await startMtaTestbed();
    listed = await relayAndList(testbed);
  }, 30_000);
  afterAll(async () => {
    await testbed?.stop();
  });

  it('lists the message by its decoded headers, without a body summary', () => {
    expect(listed).toMatchObject({ subject: 'Café report', isParsed: true, snippet: '', attachmentCount: 0 });
  });

  it('finds it by header fields, not by body text', async () => {
    expect(await searchTotal(testbed, 'subject:café')).toBe(1);
    expect(await searchTotal(testbed, 'from:app@sender.test')).toBe(1);
    expect(await searchTotal(testbed, 'zebracorn')).toBe(0);
  });

  it('shows the body and the attachment once opened', async () => {
    const base = `${testbed.harness.baseUrl}/api/v1/messages/${listed.id}`;
    const opened = (await (await fetch(base)).json()) as {
      text: string;
      attachmentCount: number;
      attachments: { filename: string }[];
    };
    expect(opened.text).toContain('quarterly zebracorn figures');
    expect(opened.attachmentCount).toBe(1);
    expect(opened.attachments.map((attachment) => attachment.filename)).toEqual(['figures.csv']);
    const download = await fetch(`${base}/attachments/0`);
    expect(download.status).toBe(200);
    expect(await download.text()).toContain('q1,42');
  });

  it('still delivers the message unchanged to the remote MX', async () => {
    const deadline = Date.now() + 10_000;
    while (!testbed.remote.messages.some((each) => each.to.includes('bob@remote.test'))) {
      if (Date.now() > deadline) throw new Error('nothing arrived at the remote MX');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const delivered = testbed.remote.messages.find((each) => each.to.includes('bob@remote.test'));
    expect(delivered?.data).toContain('The quarterly zebracorn figures are attached.');
  });
});

describe('MTA inbox with mta.indexBodies: the whole message parsed at receive', () => {
  let testbed: MtaTestbed;
  let listed: ListedMessage;

  beforeAll(async () => {
    testbed = await startMtaTestbed({}, { mta: { indexBodies: true } });
    listed = await relayAndList(testbed);
  }, 30_000);
  afterAll(async () => {
    await testbed?.stop();
  });

  it('lists the snippet and the attachment count, and finds body words', async () => {
    expect(listed).toMatchObject({ subject: 'Café report', attachmentCount: 1 });
    expect(listed.snippet).toContain('quarterly zebracorn');
    expect(await searchTotal(testbed, 'zebracorn')).toBe(1);
  });
});
