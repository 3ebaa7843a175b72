import { createClient, SmtpCapabilityError } from '@smtp/client';
import PostalMime from 'postal-mime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messageSchema } from '../src/http/schemas/index.js';
import { findBySubject, rawOf, startTestApp } from './support/app-harness.js';

type TestApp = Awaited<ReturnType<typeof startTestApp>>;

async function send(
  harness: TestApp,
  subject: string,
  dsn?: Parameters<ReturnType<typeof createClient>['send']>[0]['dsn'],
) {
  const client = createClient({ host: '127.0.0.1', port: harness.smtpPort, starttls: 'never', pool: false });
  try {
    return await client.send({
      from: 'shop@example.com',
      to: ['alice@example.net', 'bob@example.net'],
      message: `From: shop@example.com\r\nTo: alice@example.net\r\nSubject: ${subject}\r\n\r\nthe body stays home\r\n`,
      ...(dsn === undefined ? {} : { dsn }),
    });
  } finally {
    await client.close();
  }
}

async function getMessage(harness: TestApp, id: string) {
  const response = await fetch(`${harness.baseUrl}/api/v1/messages/${id}`);
  expect(response.status).toBe(200);
  return messageSchema.parse(await response.json());
}

async function listSubjects(harness: TestApp): Promise<string[]> {
  const page = (await (await fetch(`${harness.baseUrl}/api/v1/messages`)).json()) as {
    messages: { subject: string }[];
  };
  return page.messages.map((message) => message.subject);
}

describe('capture mode honours DSN NOTIFY=SUCCESS (RFC 3461 §5.2.3)', () => {
  let harness: TestApp;

  beforeAll(async () => {
    harness = await startTestApp({ smtp: { hostname: 'capture.test' } });
  });
  afterAll(() => harness.stop());

  it('captures the delivered report as its own message, linked both ways', async () => {
    const result = await send(harness, 'Order 1', {
      notify: ['SUCCESS'],
      envid: 'ORDER-1',
      orcpt: true,
      ret: 'FULL',
    });
    expect(result.accepted).toHaveLength(2);
    const original = await findBySubject(harness.baseUrl, 'Order 1');
    const report = await findBySubject(harness.baseUrl, 'Successful Mail Delivery Report');
    expect(await listSubjects(harness)).toEqual(['Successful Mail Delivery Report', 'Order 1']);

    const originalDetail = await getMessage(harness, original.id);
    const reportDetail = await getMessage(harness, report.id);
    expect(originalDetail.related).toEqual({ dsnFor: null, dsnReports: [report.id] });
    expect(reportDetail.related).toEqual({ dsnFor: original.id, dsnReports: [] });
    expect(reportDetail.envelope).toMatchObject({ from: '', to: ['shop@example.com'] });
    expect(reportDetail.session).toBeNull();

    const raw = await rawOf(harness.baseUrl, report.id);
    const parsed = await PostalMime.parse(raw);
    expect(parsed.from).toEqual({ name: 'Mail Delivery System', address: 'MAILER-DAEMON@capture.test' });
    expect(parsed.to).toEqual([{ name: '', address: 'shop@example.com' }]);
    expect(parsed.headers.find((header) => header.key === 'content-type')?.value).toMatch(
      /^multipart\/report; report-type=delivery-status;/,
    );
    expect(parsed.headers.find((header) => header.key === 'auto-submitted')?.value).toBe('auto-replied');
    const status = parsed.attachments.find((part) => part.mimeType === 'message/delivery-status');
    const statusText =
      typeof status?.content === 'string' ? status.content : new TextDecoder().decode(status?.content);
    expect(statusText).toContain('Reporting-MTA: dns; capture.test');
    expect(statusText).toContain('Original-Envelope-Id: ORDER-1');
    expect(statusText.match(/^Action: delivered$/gm)).toHaveLength(2);
    expect(statusText).toContain('Original-Recipient: rfc822; alice@example.net');
    expect(statusText).toContain('Final-Recipient: rfc822; bob@example.net');
    // RFC 3461 §4.3: RET=FULL concerns failures; a success report returns the headers only.
    expect(parsed.attachments.map((part) => part.mimeType)).toEqual([
      'message/delivery-status',
      'text/rfc822-headers',
    ]);
    expect(raw.toString('utf8')).toContain('Subject: Order 1');
    expect(raw.toString('utf8')).not.toContain('the body stays home');
  });

  it('captures no report without SUCCESS in NOTIFY', async () => {
    await fetch(`${harness.baseUrl}/api/v1/messages`, { method: 'DELETE' });
    await send(harness, 'Order 2', { notify: ['FAILURE', 'DELAY'] });
    await send(harness, 'Order 3', { notify: 'NEVER' });
    await send(harness, 'Order 4');
    expect(await listSubjects(harness)).toEqual(['Order 4', 'Order 3', 'Order 2']);
    const order = await findBySubject(harness.baseUrl, 'Order 2');
    expect((await getMessage(harness, order.id)).related).toEqual({ dsnFor: null, dsnReports: [] });
  });
});

describe('capture mode with smtp.dsn: false', () => {
  let harness: TestApp;

  beforeAll(async () => {
    harness = await startTestApp({ smtp: { dsn: false } });
  });
  afterAll(() => harness.stop());

  it('does not offer DSN, so a client asking for NOTIFY=SUCCESS is stopped before sending', async () => {
    await expect(send(harness, 'No DSN', { notify: ['SUCCESS'] })).rejects.toBeInstanceOf(
      SmtpCapabilityError,
    );
    await send(harness, 'Plain');
    expect(await listSubjects(harness)).toEqual(['Plain']);
  });
});
