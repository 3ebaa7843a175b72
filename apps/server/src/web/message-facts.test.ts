import { describe, expect, it } from 'vitest';
import type { Attachment } from './api.js';
import { blindCopiesOf, formatSendTo, greetingCommandOf, listedAttachmentsOf } from './message-facts.js';

const envelope = (to: string[]) => ({
  from: 'a@example.com',
  to,
  mailParameters: {},
  rcptParameters: to.map(() => ({})),
});

describe('message facts for the view', () => {
  it('finds blind copies: envelope recipients the To and Cc headers do not name, and a kept Bcc header', () => {
    expect(
      blindCopiesOf({
        to: [{ name: 'Bob', address: 'Bob@Example.net' }],
        cc: [{ name: '', address: 'carol@example.org' }],
        bcc: [],
        envelope: envelope(['bob@example.net', 'carol@example.org', 'dave@example.com']),
      }),
    ).toEqual([{ name: '', address: 'dave@example.com' }]);
    expect(
      blindCopiesOf({
        to: [],
        cc: [],
        bcc: [{ name: 'Eve', address: 'eve@example.com' }],
        envelope: envelope(['eve@example.com']),
      }),
    ).toEqual([{ name: 'Eve', address: 'eve@example.com' }]);
    expect(
      blindCopiesOf({
        to: [{ name: '', address: 'x@example.com' }],
        cc: [],
        bcc: [],
        envelope: envelope(['x@example.com']),
      }),
    ).toEqual([]);
  });

  it('names the greeting from the protocol (RFC 3848)', () => {
    expect(greetingCommandOf('ESMTP')).toBe('EHLO');
    expect(greetingCommandOf('ESMTPSA')).toBe('EHLO');
    expect(greetingCommandOf('SMTP')).toBe('HELO');
    expect(greetingCommandOf('LMTP')).toBe('LHLO');
  });

  it('does not list inline images the HTML shows by cid:, but lists everything else', () => {
    const attachment = (index: number, contentId: string | null, disposition: Attachment['disposition']) => ({
      index,
      filename: `file${index}`,
      contentType: 'image/png',
      disposition,
      contentId,
      sizeBytes: 10,
    });
    const attachments = [
      attachment(0, '<logo@shop>', 'inline'),
      attachment(1, '<unused@shop>', 'inline'),
      attachment(2, null, 'attachment'),
      attachment(3, '<logo2@shop>', 'attachment'),
    ];
    const listed = listedAttachmentsOf({
      attachments,
      html: '<img src="cid:logo@shop"><img src="CID:logo2@shop">',
    });
    expect(listed.map((each) => each.index)).toEqual([1, 2, 3]);
    expect(listedAttachmentsOf({ attachments, html: null }).map((each) => each.index)).toEqual([0, 1, 2, 3]);
  });

  it('says where to send mail, naming a wildcard listener by the page host', () => {
    expect(formatSendTo({ smtp: { host: '127.0.0.1', port: 2525 }, smtps: null }, 'localhost')).toBe(
      '127.0.0.1 port 2525',
    );
    expect(
      formatSendTo(
        { smtp: { host: '0.0.0.0', port: 25 }, smtps: { host: '0.0.0.0', port: 465 } },
        'mail.test',
      ),
    ).toBe('mail.test port 25 (implicit TLS: port 465)');
  });
});
