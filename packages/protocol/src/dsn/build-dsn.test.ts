import PostalMime, { type Email } from 'postal-mime';
import { describe, expect, it } from 'vitest';
import type { Mailbox } from '../address/mailbox.js';
import { SmtpUsageError } from '../errors.js';
import { buildDsn, dsnChunks } from './build-dsn.js';
import type { DeliveryStatusNotification, DsnInit, DsnRecipient } from './dsn-types.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

const mailbox = (localPart: string, name: string): Mailbox => ({ localPart, domain: { kind: 'name', name } });

const originalHeaders =
  'From: Alice <alice@sender.test>\r\nTo: bob@remote.test\r\nSubject: Lunch\r\nMessage-ID: <m1@sender.test>\r\n';
const originalBody = 'Shall we meet at noon?\r\n.. a dot-stuffed line stays as stored\r\n';
const originalMessage = `${originalHeaders}\r\n${originalBody}`;

/** Counting bytes, so the boundary is known: 16 bytes 00 01 02 … 0f. */
const countingRandom = (length: number) => Uint8Array.from({ length }, (_, index) => index);
const boundary = '=_dsn_000102030405060708090a0b0c0d0e0f';

const failedRecipient: DsnRecipient = {
  finalRecipient: mailbox('bob', 'remote.test'),
  action: 'failed',
  status: '5.1.1',
  remoteMta: 'mx.remote.test',
  diagnostic: { code: 550, enhanced: '5.1.1', lines: ['<bob@remote.test>: no such user'] },
  lastAttemptDate: new Date('2026-12-06T10:15:00Z'),
};

function init(overrides: Partial<DsnInit> = {}): DsnInit {
  return {
    reportingMta: 'mta.sender.test',
    reversePath: mailbox('alice', 'sender.test'),
    arrivalDate: new Date('2026-12-06T10:00:00Z'),
    now: new Date('2026-12-06T10:15:01Z'),
    messageId: '<dsn-1@mta.sender.test>',
    recipients: [failedRecipient],
    originalHeaders: encoder.encode(originalMessage),
    random: countingRandom,
    ...overrides,
  };
}

function bytesOf(dsn: DeliveryStatusNotification): Uint8Array {
  const chunks = [
    ...dsnChunks(dsn, [encoder.encode(originalHeaders), encoder.encode(`\r\n${originalBody}`)]),
  ];
  const joined = new Uint8Array(chunks.reduce((total, chunk) => total + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    joined.set(chunk, offset);
    offset += chunk.length;
  }
  return joined;
}

async function parse(dsn: DeliveryStatusNotification): Promise<{ raw: string; email: Email }> {
  const bytes = bytesOf(dsn);
  return { raw: decoder.decode(bytes), email: await PostalMime.parse(bytes) };
}

const header = (email: Email, key: string) => email.headers.find((field) => field.key === key)?.value;
const attachmentText = (email: Email, mimeType: string) => {
  const attachment = email.attachments.find((candidate) => candidate.mimeType === mimeType);
  if (attachment === undefined) return undefined;
  return typeof attachment.content === 'string' ? attachment.content : decoder.decode(attachment.content);
};

describe('buildDsn', () => {
  it('builds a failure report a MIME parser reads as multipart/report with three parts', async () => {
    const dsn = buildDsn(init());
    expect(dsn.envelope).toEqual({ reversePath: null, recipient: mailbox('alice', 'sender.test') });
    expect(dsn).toMatchObject({ smtpUtf8: false, body: '7BIT', returned: 'headers' });
    const { raw, email } = await parse(dsn);
    expect(email.from).toEqual({ name: 'Mail Delivery System', address: 'MAILER-DAEMON@mta.sender.test' });
    expect(email.to).toEqual([{ name: '', address: 'alice@sender.test' }]);
    expect(email.subject).toBe('Undelivered Mail Returned to Sender');
    expect(email.messageId).toBe('<dsn-1@mta.sender.test>');
    expect(header(email, 'date')).toBe('Sun, 6 Dec 2026 10:15:01 +0000');
    expect(header(email, 'auto-submitted')).toBe('auto-replied');
    expect(header(email, 'content-type')).toBe(
      `multipart/report; report-type=delivery-status; boundary="${boundary}"`,
    );
    expect(email.text).toContain('This is the mail system at host mta.sender.test.');
    expect(email.text).toContain(
      '<bob@remote.test>: failed (5.1.1), mx.remote.test said: 550 5.1.1 <bob@remote.test>: no such user',
    );
    expect(email.attachments.map((attachment) => attachment.mimeType)).toEqual([
      'message/delivery-status',
      'text/rfc822-headers',
    ]);
    // The exact message/delivery-status part, CRLF and all (RFC 3464 §2.1).
    expect(raw).toContain(
      'Content-Type: message/delivery-status\r\nContent-Transfer-Encoding: 7bit\r\n\r\n' +
        'Reporting-MTA: dns; mta.sender.test\r\n' +
        'Arrival-Date: Sun, 6 Dec 2026 10:00:00 +0000\r\n' +
        '\r\n' +
        'Final-Recipient: rfc822; bob@remote.test\r\n' +
        'Action: failed\r\n' +
        'Status: 5.1.1\r\n' +
        'Remote-MTA: dns; mx.remote.test\r\n' +
        'Diagnostic-Code: smtp; 550 5.1.1 <bob@remote.test>: no such user\r\n' +
        'Last-Attempt-Date: Sun, 6 Dec 2026 10:15:00 +0000\r\n' +
        `\r\n--${boundary}\r\n`,
    );
    // Without RET, a failure returns the header section only: no body.
    expect(raw).toContain(
      `Content-Type: text/rfc822-headers\r\nContent-Transfer-Encoding: 7bit\r\n\r\n${originalHeaders}\r\n--${boundary}--\r\n`,
    );
    expect(raw).not.toContain('Shall we meet');
    expect(raw.endsWith(`\r\n--${boundary}--\r\n`)).toBe(true);
  });

  it('returns the whole original as message/rfc822 for RET=FULL, streamed between before and after', async () => {
    const dsn = buildDsn(init({ ret: 'FULL' }));
    expect(dsn.returned).toBe('message');
    expect(decoder.decode(dsn.before)).not.toContain('Subject: Lunch');
    expect(decoder.decode(dsn.after)).toBe(`\r\n--${boundary}--\r\n`);
    const { raw, email } = await parse(dsn);
    expect(raw).toContain(
      `Content-Type: message/rfc822\r\nContent-Transfer-Encoding: 7bit\r\n\r\n${originalMessage}\r\n--${boundary}--\r\n`,
    );
    expect(attachmentText(email, 'message/rfc822')).toContain('Shall we meet at noon?');
  });

  it('returns only headers for RET=HDRS, and for reports with no failure even with RET=FULL (RFC 3461 §4.3)', () => {
    expect(buildDsn(init({ ret: 'HDRS' })).returned).toBe('headers');
    const delayed: DsnRecipient = { ...failedRecipient, action: 'delayed', status: '4.4.1' };
    expect(buildDsn(init({ ret: 'FULL', recipients: [delayed] })).returned).toBe('headers');
    const delivered: DsnRecipient = {
      finalRecipient: failedRecipient.finalRecipient,
      action: 'delivered',
      status: '2.0.0',
    };
    expect(buildDsn(init({ ret: 'FULL', recipients: [delivered] })).returned).toBe('headers');
  });

  it('writes a delay warning with Will-Retry-Until, and ENVID and ORCPT when given', async () => {
    const delayed: DsnRecipient = {
      finalRecipient: mailbox('bob', 'remote.test'),
      originalRecipient: { addressType: 'rfc822', address: 'Bob@Remote.test' },
      action: 'delayed',
      status: '4.4.1',
      diagnostic: { code: 421, enhanced: '4.4.1', lines: ['connection timed out'] },
      lastAttemptDate: new Date('2026-12-06T14:00:00Z'),
      willRetryUntil: new Date('2026-12-11T10:00:00Z'),
    };
    const { raw, email } = await parse(buildDsn(init({ recipients: [delayed], envelopeId: 'QQ314159' })));
    expect(email.subject).toBe('Delayed Mail (still being retried)');
    expect(email.text).toContain('we keep trying until Fri, 11 Dec 2026 10:00:00 +0000');
    expect(attachmentText(email, 'message/delivery-status')?.replace(/\n+$/, '')).toBe(
      [
        'Reporting-MTA: dns; mta.sender.test',
        'Original-Envelope-Id: QQ314159',
        'Arrival-Date: Sun, 6 Dec 2026 10:00:00 +0000',
        '',
        'Original-Recipient: rfc822; Bob@Remote.test',
        'Final-Recipient: rfc822; bob@remote.test',
        'Action: delayed',
        'Status: 4.4.1',
        'Diagnostic-Code: smtp; 421 4.4.1 connection timed out',
        'Last-Attempt-Date: Sun, 6 Dec 2026 14:00:00 +0000',
        'Will-Retry-Until: Fri, 11 Dec 2026 10:00:00 +0000',
      ].join('\n'),
    );
    expect(raw).not.toContain('Remote-MTA');
  });

  it('leaves Will-Retry-Until out of anything but a delay', () => {
    const failed = { ...failedRecipient, willRetryUntil: new Date('2026-12-11T10:00:00Z') };
    expect(decoder.decode(buildDsn(init({ recipients: [failed] })).before)).not.toContain('Will-Retry-Until');
  });

  it('names the subject by the most severe action and keeps one group per recipient in order', async () => {
    const recipients: DsnRecipient[] = [
      { finalRecipient: mailbox('carol', 'remote.test'), action: 'delivered', status: '2.0.0' },
      { finalRecipient: mailbox('dave', 'remote.test'), action: 'delayed', status: '4.2.2' },
      failedRecipient,
    ];
    const { email } = await parse(buildDsn(init({ recipients })));
    expect(email.subject).toBe('Undelivered Mail Returned to Sender');
    const status = attachmentText(email, 'message/delivery-status') ?? '';
    expect([...status.matchAll(/^Final-Recipient: rfc822; (\S+)$/gm)].map((match) => match[1])).toEqual([
      'carol@remote.test',
      'dave@remote.test',
      'bob@remote.test',
    ]);
    expect(status.split('\n\n').filter((group) => group.trim() !== '')).toHaveLength(4);
    const success = await parse(buildDsn(init({ recipients: recipients.slice(0, 1) })));
    expect(success.email.subject).toBe('Successful Mail Delivery Report');
    const delay = await parse(buildDsn(init({ recipients: recipients.slice(0, 2) })));
    expect(delay.email.subject).toBe('Delayed Mail (still being retried)');
  });

  it('uses the global form for a UTF-8 recipient (RFC 6533) and asks for SMTPUTF8', async () => {
    const recipient: DsnRecipient = {
      finalRecipient: mailbox('jürgen', 'bücher.test'),
      originalRecipient: { addressType: 'utf-8', address: 'jürgen+tag@bücher.test' },
      action: 'failed',
      status: '5.1.1',
    };
    const dsn = buildDsn(init({ recipients: [recipient] }));
    expect(dsn).toMatchObject({ smtpUtf8: true, body: '8BITMIME' });
    const { raw, email } = await parse(dsn);
    expect(email.attachments.map((attachment) => attachment.mimeType)).toEqual([
      'message/global-delivery-status',
      'message/global-headers',
    ]);
    expect(raw).toContain('Content-Type: text/plain; charset=utf-8');
    expect(raw).toContain('Content-Transfer-Encoding: 8bit');
    // The domain is given as A-labels; the local part needs UTF-8. "+" is escaped (RFC 6533 §3).
    expect(raw).toContain('Original-Recipient: utf-8; jürgen\\x{2B}tag@bücher.test\r\n');
    expect(raw).toContain('Final-Recipient: utf-8; jürgen@xn--bcher-kva.test\r\n');
  });

  it('keeps an ASCII local part at an IDN domain in the plain form, with A-labels', async () => {
    const recipient: DsnRecipient = {
      finalRecipient: mailbox('info', 'bücher.test'),
      action: 'failed',
      status: '5.1.1',
    };
    const dsn = buildDsn(init({ recipients: [recipient], reversePath: mailbox('alice', 'münchen.test') }));
    expect(dsn.smtpUtf8).toBe(false);
    expect(dsn.envelope.recipient).toEqual(mailbox('alice', 'xn--mnchen-3ya.test'));
    const { raw } = await parse(dsn);
    expect(raw).toContain('To: <alice@xn--mnchen-3ya.test>\r\n');
    expect(raw).toContain('Final-Recipient: rfc822; info@xn--bcher-kva.test\r\n');
    expect(raw).toContain('<info@xn--bcher-kva.test>: failed (5.1.1)');
    expect(raw).toContain('Content-Type: message/delivery-status\r\n');
  });

  it('sends UTF-8 original headers back as message/global-headers', () => {
    const headers = encoder.encode('Subject: Grüße\r\n\r\nbody');
    const dsn = buildDsn(init({ originalHeaders: headers }));
    expect(dsn.smtpUtf8).toBe(true);
    expect(decoder.decode(dsn.before)).toMatch(
      /Content-Type: message\/global-headers\r\nContent-Transfer-Encoding: 8bit\r\n\r\nSubject: Grüße\r\n$/,
    );
  });

  it('marks an 8-bit original returned whole as 8BITMIME with an 8bit part', () => {
    const dsn = buildDsn(init({ ret: 'FULL', originalEightBit: true }));
    expect(dsn).toMatchObject({ body: '8BITMIME', smtpUtf8: false, returned: 'message' });
    const before = decoder.decode(dsn.before);
    expect(before).toContain('Content-Type: message/rfc822\r\nContent-Transfer-Encoding: 8bit\r\n\r\n');
    expect(before.split('\r\n\r\n')[0]).toContain('Content-Transfer-Encoding: 8bit');
    // Headers only: the 8-bit body is not sent, the report stays 7-bit.
    expect(buildDsn(init({ originalEightBit: true })).body).toBe('7BIT');
  });

  it('folds a long diagnostic within 78 characters, drops controls and non-ASCII outside the global form', async () => {
    const longText = `${'mailbox quota exceeded '.repeat(8)}\u0007 naïve`;
    const recipient: DsnRecipient = {
      ...failedRecipient,
      diagnostic: { code: 552, enhanced: '5.2.2', lines: [longText, 'second line'] },
    };
    const { raw } = await parse(buildDsn(init({ recipients: [recipient] })));
    const field = raw.match(/Diagnostic-Code:.*(?:\r\n[ \t].*)*/)?.[0] ?? '';
    expect(field.split('\r\n').length).toBeGreaterThan(2);
    for (const line of field.split('\r\n')) expect(line.length).toBeLessThanOrEqual(78);
    expect(field.replace(/\r\n /g, ' ')).toBe(
      `Diagnostic-Code: smtp; 552 5.2.2 ${'mailbox quota exceeded '.repeat(8)}na?ve second line`,
    );
    const huge = { ...failedRecipient, diagnostic: { code: 550, enhanced: null, lines: ['x'.repeat(2000)] } };
    const hugeRaw = decoder.decode(buildDsn(init({ recipients: [huge] })).before);
    expect(hugeRaw.replace(/\r\n /g, ' ')).toContain(`Diagnostic-Code: smtp; 550 ${'x'.repeat(896)}...\r\n`);
    for (const line of hugeRaw.split('\r\n')) expect(line.length).toBeLessThanOrEqual(998);
  });

  it('cuts the original at its empty line, and ends a header-only original with CRLF', () => {
    const noBody = buildDsn(init({ originalHeaders: encoder.encode('Subject: only headers') }));
    expect(decoder.decode(noBody.before)).toMatch(/\r\n\r\nSubject: only headers\r\n$/);
    const empty = buildDsn(init({ originalHeaders: encoder.encode('\r\nbody without headers') }));
    expect(decoder.decode(empty.before)).toMatch(/Content-Transfer-Encoding: 7bit\r\n\r\n$/);
  });

  it('refuses a DSN to <>, without recipients, or with a header-breaking value', () => {
    expect(() => buildDsn(init({ reversePath: null }))).toThrow(SmtpUsageError);
    expect(() => buildDsn(init({ reversePath: null }))).toThrow(/null reverse-path/);
    expect(() => buildDsn(init({ recipients: [] }))).toThrow(/at least one recipient/);
    expect(() => buildDsn(init({ messageId: '<a@b>\r\nBcc: x@y' }))).toThrow(/Invalid messageId/);
    expect(() => buildDsn(init({ reportingMta: '' }))).toThrow(/Invalid reportingMta/);
    expect(() => buildDsn(init({ now: new Date(Number.NaN) }))).toThrow(RangeError);
  });

  it('draws a fresh boundary from the injected random', () => {
    const first = decoder.decode(
      buildDsn(init({ random: (length) => new Uint8Array(length).fill(0xab) })).after,
    );
    expect(first).toBe(`\r\n--=_dsn_${'ab'.repeat(16)}--\r\n`);
  });
});
