import { describe, expect, it } from 'vitest';
import { parseHeaderSection, parseMessage } from './parse-message.js';

const encode = (text: string) => new TextEncoder().encode(text);

const multipart = [
  'From: "Ann Example" <ann@example.test>',
  'To: bob@example.test, =?UTF-8?Q?Zo=C3=AB?= <zoe@example.test>',
  'Cc: carl@example.test',
  'Subject: =?UTF-8?B?SGVsbG8sIHfDtnJsZA==?=',
  '  and more',
  'Date: Mon, 5 Jan 2026 09:00:00 +0000',
  'Message-ID: <scope@example.test>',
  'Content-Type: multipart/mixed; boundary="b"',
  '',
  '--b',
  'Content-Type: text/plain',
  '',
  'body text',
  '--b',
  'Content-Type: application/octet-stream',
  'Content-Disposition: attachment; filename="a.bin"',
  '',
  'AAAA',
  '--b--',
  '',
].join('\r\n');

describe('parseHeaderSection', () => {
  it('decodes the header fields exactly as the full parse does', async () => {
    const raw = encode(multipart);
    const [headers, full] = await Promise.all([parseHeaderSection(raw), parseMessage(raw)]);
    for (const key of ['subject', 'from', 'to', 'cc', 'messageIdHeader', 'dateHeaderMs', 'headers'] as const)
      expect(headers[key]).toEqual(full[key]);
    expect(headers.subject).toMatch(/^Hello, wörld\s+and more$/);
    expect(headers.to.map((address) => address.name)).toEqual(['', 'Zoë']);
  });

  it('reads no body: no text, no attachments, and says so', async () => {
    const parsed = await parseHeaderSection(encode(multipart));
    expect(parsed).toMatchObject({ text: null, html: null, attachments: [], bodyParsed: false });
    expect((await parseMessage(encode(multipart))).bodyParsed).toBeUndefined();
  });

  it('takes a message without an empty line as all header, and LF line ends', async () => {
    expect((await parseHeaderSection(encode('Subject: only\r\nFrom: a@b.test\r\n'))).subject).toBe('only');
    const parsed = await parseHeaderSection(encode('Subject: lf\nFrom: a@b.test\n\nbody\n'));
    expect(parsed.subject).toBe('lf');
    expect(parsed.from?.address).toBe('a@b.test');
    expect(parsed.text).toBeNull();
  });
});
