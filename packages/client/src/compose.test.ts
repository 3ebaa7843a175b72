import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { SmtpUsageError } from '@smtp/protocol';
import PostalMime, { decodeWords, type Email } from 'postal-mime';
import { describe, expect, it } from 'vitest';
import { type ComposeOptions, compose } from './compose.js';

async function read(message: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of message) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function composeAndParse(options: ComposeOptions): Promise<{ raw: Buffer; email: Email }> {
  const raw = await read(compose(options).message);
  return { raw, email: await PostalMime.parse(raw) };
}

function bytesOf(content: ArrayBuffer | Uint8Array | string): Buffer {
  return typeof content === 'string' ? Buffer.from(content) : Buffer.from(content as ArrayBuffer);
}

/** The header block of the message and of every part: everything up to a blank line after a field. */
function headerBlocks(raw: string): string[] {
  return raw.split(/\r\n\r\n/).filter((block) => /^[!-9;-~]+: /m.test(block));
}

/** Stream of `bytes` in pieces of the given sizes, then the rest. */
function streamOf(bytes: Uint8Array, pieceSizes: readonly number[]): Readable {
  const pieces: Uint8Array[] = [];
  let offset = 0;
  for (const size of pieceSizes) {
    pieces.push(bytes.subarray(offset, offset + size));
    offset += size;
  }
  pieces.push(bytes.subarray(offset));
  return Readable.from(pieces.filter((piece) => piece.byteLength > 0));
}

describe('compose', () => {
  it('writes text, HTML and an attachment that a MIME parser reads back byte for byte', async () => {
    const attachment = randomBytes(200_003);
    const { raw, email } = await composeAndParse({
      from: { name: 'Bench', address: 'bench@example.com' },
      to: 'sink@example.com',
      subject: 'Your order has shipped',
      text: 'Plain text\nsecond line',
      html: '<p>HTML</p>',
      attachments: [{ filename: 'invoice.pdf', content: attachment }],
    });
    expect(email.subject).toBe('Your order has shipped');
    expect(email.from).toEqual({ name: 'Bench', address: 'bench@example.com' });
    expect(email.text?.replace(/\r\n/g, '\n').trimEnd()).toBe('Plain text\nsecond line');
    expect(email.html?.trim()).toBe('<p>HTML</p>');
    expect(email.attachments).toHaveLength(1);
    expect(email.attachments[0]?.filename).toBe('invoice.pdf');
    expect(email.attachments[0]?.mimeType).toBe('application/pdf');
    expect(bytesOf(email.attachments[0]!.content).equals(attachment)).toBe(true);
    const text = raw.toString('latin1');
    expect(text).toContain('Content-Type: multipart/mixed;');
    expect(text).toContain('Content-Type: multipart/alternative;');
    expect(text).toContain('\r\nMIME-Version: 1.0\r\n');
    expect(text).not.toMatch(/[^\r]\n/); // CRLF line ends only
  });

  it('round-trips streamed attachments cut at any size, around base64 line boundaries', async () => {
    for (const [size, pieces] of [
      [0, []],
      [1, [1]],
      [57, [56]],
      [58, [1, 56]],
      [100_000, [3, 57, 1000, 4095]],
      [58_369, [58_368]],
    ] as const) {
      const attachment = randomBytes(size);
      const { email } = await composeAndParse({
        from: 'a@example.com',
        to: 'b@example.com',
        text: 'see attachment',
        attachments: [{ filename: 'data.bin', content: streamOf(attachment, pieces) }],
      });
      expect(bytesOf(email.attachments[0]?.content ?? '').equals(attachment), `size ${size}`).toBe(true);
    }
  });

  it('writes text and HTML given as streams quoted-printable, and fails when such a stream fails', async () => {
    const text = 'Gr\u00fc\u00dfe\r\n'.repeat(2000);
    const { raw, email } = await composeAndParse({
      from: 'a@example.com',
      to: 'b@example.com',
      text: Readable.from([Buffer.from(text.slice(0, 1001)), Buffer.from(text.slice(1001))]),
      html: Readable.from([Buffer.from('<p>caf\u00e9</p>')]),
    });
    expect(raw.toString('latin1').match(/quoted-printable/g)).toHaveLength(2);
    expect(email.text).toBe(text.replace(/\r\n/g, '\n'));
    expect(email.html?.trim()).toBe('<p>caf\u00e9</p>');
    const failing = new Readable({
      read() {
        this.destroy(new Error('text source gone'));
      },
    });
    await expect(
      read(compose({ from: 'a@example.com', to: 'b@example.com', text: failing }).message),
    ).rejects.toThrow('text source gone');
  });

  it('reads a file attachment only with allowFileAccess, byte for byte', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'compose-'));
    try {
      const attachment = randomBytes(150_001);
      const path = join(directory, 'report.bin');
      await writeFile(path, attachment);
      const { email } = await composeAndParse({
        from: 'a@example.com',
        to: 'b@example.com',
        attachments: [{ path }],
        allowFileAccess: true,
      });
      expect(email.attachments[0]?.filename).toBe('report.bin');
      expect(bytesOf(email.attachments[0]!.content).equals(attachment)).toBe(true);
      expect(() => compose({ from: 'a@example.com', to: 'b@example.com', attachments: [{ path }] })).toThrow(
        SmtpUsageError,
      );
    } finally {
      await rm(directory, { recursive: true });
    }
  });

  it('keeps every line within 998 octets and every base64 line within 76 characters', async () => {
    const longLine = 'word '.repeat(2000);
    const { raw, email } = await composeAndParse({
      from: 'a@example.com',
      to: 'b@example.com',
      subject: 'x'.repeat(300),
      text: longLine,
      html: `<p>${'y'.repeat(5000)}</p>`,
      attachments: [{ filename: 'data.bin', content: randomBytes(10_000) }],
    });
    const lines = raw.toString('latin1').split('\r\n');
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(998);
    const base64Body = raw.toString('latin1').split('filename=data.bin\r\n\r\n')[1]!.split('\r\n--')[0]!;
    for (const line of base64Body.split('\r\n')) expect(line.length).toBeLessThanOrEqual(76);
    // Long text lines go quoted-printable (RFC 2045 §6.7), and come back whole.
    expect(raw.toString('latin1')).toContain('Content-Transfer-Encoding: quoted-printable');
    expect(email.text?.trimEnd()).toBe(longLine.trimEnd());
    expect(email.html?.trim()).toBe(`<p>${'y'.repeat(5000)}</p>`);
  });

  it('writes non-ASCII headers as RFC 2047 encoded words, filenames also as RFC 2231', async () => {
    const { raw, email } = await composeAndParse({
      from: { name: 'Andr\u00e9 M\u00fcller', address: 'andre@example.com' },
      to: [{ name: '\u5c71\u7530', address: 'yamada@example.jp' }, 'Plain Name <plain@example.org>'],
      subject: 'R\u00e9sum\u00e9 \u2014 \u{1f4e8} and some more words to make it fold over the line length',
      headers: { 'X-Note': 'caf\u00e9' },
      text: 'Gr\u00fc\u00dfe aus K\u00f6ln',
      attachments: [{ filename: 'r\u00e9sum\u00e9.pdf', content: 'pdf' }],
    });
    for (const block of headerBlocks(raw.toString('latin1'))) expect(block).toMatch(/^[\x00-\x7f]*$/);
    expect(raw.toString('latin1')).toMatch(/Subject: .*=\?UTF-8\?Q\?/);
    expect(raw.toString('latin1')).toContain("filename*0*=utf-8''r%C3%A9sum%C3%A9.pdf");
    expect(email.subject).toBe(
      'R\u00e9sum\u00e9 \u2014 \u{1f4e8} and some more words to make it fold over the line length',
    );
    expect(email.from?.name).toBe('Andr\u00e9 M\u00fcller');
    expect(email.to?.map((address) => address.name)).toEqual(['\u5c71\u7530', 'Plain Name']);
    expect(decodeWords(email.headers.find((header) => header.key === 'x-note')?.value ?? '')).toBe(
      'caf\u00e9',
    );
    expect(email.text?.trimEnd()).toBe('Gr\u00fc\u00dfe aus K\u00f6ln');
    expect(email.attachments[0]?.filename).toBe('r\u00e9sum\u00e9.pdf');
  });

  it('puts cid images next to the HTML in multipart/related', async () => {
    const image = randomBytes(500);
    const { raw, email } = await composeAndParse({
      from: 'a@example.com',
      to: 'b@example.com',
      html: '<img src="cid:logo@example.com">',
      attachments: [
        { filename: 'logo.png', content: image, cid: 'logo@example.com' },
        { filename: 'notes.txt', content: 'notes' },
      ],
    });
    expect(raw.toString('latin1')).toContain('Content-Type: multipart/related; type="text/html";');
    const logo = email.attachments.find((attachment) => attachment.filename === 'logo.png');
    expect(logo?.contentId).toBe('<logo@example.com>');
    expect(logo?.disposition).toBe('inline');
    expect(bytesOf(logo!.content).equals(image)).toBe(true);
    const notes = email.attachments.find((attachment) => attachment.filename === 'notes.txt');
    expect(notes?.disposition).toBe('attachment');
    expect(bytesOf(notes!.content).toString()).toBe('notes');
  });

  it('writes a single part without multipart when there is only one', async () => {
    const textOnly = (
      await read(compose({ from: 'a@example.com', to: 'b@example.com', text: 'hi' }).message)
    ).toString('latin1');
    expect(textOnly).toContain('Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit');
    expect(textOnly).not.toContain('multipart');
    expect(textOnly.endsWith('\r\n\r\nhi')).toBe(true);
    const { raw, email } = await composeAndParse({
      from: 'a@example.com',
      to: 'b@example.com',
      attachments: [{ filename: 'a.bin', content: new Uint8Array([1, 2, 3]) }],
    });
    expect(raw.toString('latin1')).not.toContain('multipart');
    expect([...bytesOf(email.attachments[0]!.content)]).toEqual([1, 2, 3]);
  });

  it('sends a message/rfc822 attachment as it is, never base64 (RFC 2046 §5.2.1)', async () => {
    const inner = 'From: x@example.com\r\nSubject: inner\r\n\r\nbody\r\n';
    const raw = (
      await read(
        compose({
          from: 'a@example.com',
          to: 'b@example.com',
          text: 'forwarded',
          attachments: [{ filename: 'fwd.eml', contentType: 'message/rfc822', content: inner }],
        }).message,
      )
    ).toString('latin1');
    expect(raw).toContain('Content-Transfer-Encoding: 7bit\r\nContent-Disposition: inline; filename=fwd.eml');
    expect(raw).toContain(inner);
  });

  it('gives the envelope: sender, and To, Cc and Bcc once each; Bcc is not written', async () => {
    const composed = compose({
      from: 'Sender <sender@example.com>',
      to: ['a@example.com', 'B <b@example.com>'],
      cc: 'a@example.com, c@example.com',
      bcc: { address: 'hidden@example.com' },
      text: 'x',
    });
    expect(composed.from).toBe('sender@example.com');
    expect(composed.to).toEqual(['a@example.com', 'b@example.com', 'c@example.com', 'hidden@example.com']);
    const raw = (await read(composed.message)).toString('latin1');
    expect(raw).not.toContain('hidden@example.com');
    expect(raw).toContain('\r\nTo: a@example.com, B <b@example.com>\r\n');
    expect(raw).toContain(`\r\nMessage-ID: ${composed.messageId}\r\n`);
    expect(composed.messageId).toMatch(/^<[0-9a-f-]+@example\.com>$/);
  });

  it('writes an internationalised domain as A-labels when the local part is ASCII', () => {
    const composed = compose({ from: 'a@b\u00fccher.example', to: 'x@example.com', text: 'x' });
    expect(composed.from).toBe('a@xn--bcher-kva.example');
  });

  it('takes Message-ID and Date from the options or the headers', async () => {
    const date = new Date(Date.UTC(2024, 0, 2, 3, 4, 5));
    const composed = compose({
      from: 'a@example.com',
      to: 'b@example.com',
      messageId: 'id@example.com',
      date,
    });
    expect(composed.messageId).toBe('<id@example.com>');
    const raw = (await read(composed.message)).toString('latin1');
    expect(raw).toContain('\r\nDate: Tue, 02 Jan 2024 03:04:05 +0000\r\n');
    const fromHeaders = compose({
      from: 'a@example.com',
      to: 'b@example.com',
      headers: { 'Message-ID': '<h@example.com>' },
    });
    expect(fromHeaders.messageId).toBe('<h@example.com>');
    expect((await read(fromHeaders.message)).toString('latin1').match(/Message-ID:/g)).toHaveLength(1);
  });

  it('refuses what it cannot write: missing addresses, line breaks, headers it writes itself', () => {
    const base = { from: 'a@example.com', to: 'b@example.com' };
    expect(() => compose({ ...base, to: [] })).toThrow(/at least one of to, cc or bcc/);
    expect(() => compose({ ...base, from: '' })).toThrow(SmtpUsageError);
    expect(() => compose({ ...base, subject: 'a\r\nBcc: x@example.com' })).toThrow(SmtpUsageError);
    expect(() => compose({ ...base, headers: { 'Content-Type': 'text/html' } })).toThrow(
      /Content-Type header is composed from text/,
    );
    expect(() => compose({ ...base, headers: { subject: 'x' } })).toThrow(SmtpUsageError);
    expect(() => compose({ ...base, headers: { 'Bad Name': 'x' } })).toThrow(/Invalid header name/);
  });

  it('reads a stream attachment only as the message is read, never ahead of it', async () => {
    let pulledBytes = 0;
    const total = 20 * 1024 * 1024;
    const source = new Readable({
      highWaterMark: 64 * 1024,
      read() {
        if (pulledBytes >= total) {
          this.push(null);
          return;
        }
        pulledBytes += 64 * 1024;
        this.push(Buffer.alloc(64 * 1024, 0x61));
      },
    });
    const { message } = compose({
      from: 'a@example.com',
      to: 'b@example.com',
      text: 'big',
      attachments: [{ filename: 'big.bin', content: source }],
    });
    expect(pulledBytes).toBe(0);
    const iterator = message[Symbol.asyncIterator]();
    let readBytes = 0;
    for (let step = 0; step < 4; step++) readBytes += ((await iterator.next()).value as Buffer).byteLength;
    // A few chunks read: the source is a few chunks ahead at most, not 20 MB.
    expect(readBytes).toBeGreaterThan(0);
    expect(pulledBytes).toBeLessThan(1024 * 1024);
    // Stopping early releases the attachment stream (a tick later, as the generator unwinds).
    await iterator.return?.();
    await new Promise((resolve) => setImmediate(resolve));
    expect(source.destroyed).toBe(true);
  });

  it('fails the message stream when an attachment stream fails', async () => {
    const failing = new Readable({
      read() {
        this.destroy(new Error('disk gone'));
      },
    });
    const { message } = compose({
      from: 'a@example.com',
      to: 'b@example.com',
      attachments: [{ filename: 'x.bin', content: failing }],
    });
    await expect(read(message)).rejects.toThrow('disk gone');
  });
});
