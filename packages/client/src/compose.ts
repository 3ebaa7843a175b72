import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { pipeline, Readable } from 'node:stream';
import { SmtpUsageError } from '@smtp/protocol';
import { buildHeaderValue, detectExtension, detectMimeType } from 'nodemailer/lib/mime-funcs';
import { Encoder as QuotedPrintableEncoder } from 'nodemailer/lib/qp';
import { assertNoLineBreak } from './envelope.js';
import { base64BlockBytes } from './mime/base64-lines.js';
import { headerField, unstructuredValue } from './mime/header-field.js';
import { formatAddresses, type MailAddress, parseAddresses } from './mime/mail-address.js';
import { messageChunks } from './mime/message-chunks.js';
import type { MimePart, PartBody } from './mime/mime-part.js';
import { encodeText } from './mime/text-body.js';

/** `"Name" <user@example.com>` (or several, separated by commas) or its parts. */
export type ComposeAddress = string | { readonly name?: string; readonly address: string };

export interface ComposeAttachment {
  readonly filename?: string;
  /** The content: text, bytes or a stream (read while sending, never buffered here). */
  readonly content?: string | Uint8Array | Readable;
  /** A file to read; only with `allowFileAccess`. */
  readonly path?: string;
  readonly contentType?: string;
  /** 'attachment' (default) or 'inline'. */
  readonly contentDisposition?: 'attachment' | 'inline';
  /** Content-ID for images referenced from the HTML as `cid:...`. */
  readonly cid?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface ComposeOptions {
  readonly from: ComposeAddress;
  readonly to?: ComposeAddress | readonly ComposeAddress[];
  readonly cc?: ComposeAddress | readonly ComposeAddress[];
  /** Envelope recipients only: never written to the headers. */
  readonly bcc?: ComposeAddress | readonly ComposeAddress[];
  readonly replyTo?: ComposeAddress | readonly ComposeAddress[];
  readonly subject?: string;
  readonly text?: string | Uint8Array | Readable;
  readonly html?: string | Uint8Array | Readable;
  readonly attachments?: readonly ComposeAttachment[];
  /** Extra headers. Values are encoded (RFC 2047) when not ASCII; CR/LF in names or values is refused. */
  readonly headers?: Readonly<Record<string, string | readonly string[]>>;
  readonly messageId?: string;
  readonly date?: Date;
  /** Let attachments name files on this machine with `path`. Default false: a path from user input must not read local files. */
  readonly allowFileAccess?: boolean;
}

export interface ComposedMessage {
  /** Envelope sender: the From address. */
  readonly from: string;
  /** Envelope recipients: To, Cc and Bcc. */
  readonly to: readonly string[];
  /** The RFC 5322 message as a stream, generated as it is read. */
  readonly message: Readable;
  /** The Message-ID header value, with angle brackets. */
  readonly messageId: string;
}

/**
 * Builds a MIME message (RFC 5322, 2045-2049): multipart/alternative text+html, multipart/related inline
 * images, multipart/mixed attachments, RFC 2047 headers. Headers and in-memory bodies are prepared here,
 * at once; the message is generated as it is read, in chunks of about 64 KiB (a small message is one
 * chunk), and stream or file attachments are read and base64 encoded only as the message reaches them,
 * so a large attachment is never held whole. The result spreads into `send()`:
 * `client.send(compose({ ... }))`.
 */
export function compose(options: ComposeOptions): ComposedMessage {
  checkHeaderValues(options);
  const from = parseAddresses(options.from, 'from');
  const sender = from[0];
  if (sender === undefined || sender.address === '')
    throw new SmtpUsageError('compose() needs a from address');
  const to = addressesOf(options.to, 'to');
  const cc = addressesOf(options.cc, 'cc');
  const bcc = addressesOf(options.bcc, 'bcc');
  const recipients = [...new Set([...to, ...cc, ...bcc].map((address) => address.address))];
  if (recipients.length === 0) throw new SmtpUsageError('compose() needs at least one of to, cc or bcc');
  const customHeaders = customHeaderFields(options.headers ?? {});
  const messageId = inAngleBrackets(
    options.messageId ?? customHeaders.messageId ?? `${randomUUID()}@${domainOf(sender.address)}`,
  );
  const fields = [headerField('From', formatAddresses(from))];
  if (to.length > 0) fields.push(headerField('To', formatAddresses(to)));
  if (cc.length > 0) fields.push(headerField('Cc', formatAddresses(cc)));
  // Bcc is envelope only: never written (RFC 5322 §3.6.3 allows leaving it out).
  if (options.replyTo !== undefined) {
    fields.push(headerField('Reply-To', formatAddresses(parseAddresses(options.replyTo, 'replyTo'))));
  }
  if (options.subject !== undefined) fields.push(headerField('Subject', unstructuredValue(options.subject)));
  fields.push(headerField('Message-ID', messageId));
  fields.push(
    headerField(
      'Date',
      customHeaders.date ?? (options.date ?? new Date()).toUTCString().replace('GMT', '+0000'),
    ),
  );
  fields.push(...customHeaders.fields, 'MIME-Version: 1.0');
  const root = messageTree(options, new BoundaryNames());
  const message = Readable.from(
    messageChunks({ ...root, header: `${fields.join('\r\n')}\r\n${root.header}` }),
    // One chunk read ahead, handed on as it is: a byte-mode stream would copy buffered chunks together.
    { objectMode: true, highWaterMark: 1 },
  );
  return { from: sender.address, to: recipients, message, messageId };
}

/** The fields compose() writes itself, and the option each comes from: a custom header of that name is refused. */
const composedFields: ReadonlyMap<string, string> = new Map([
  ['from', 'from'],
  ['to', 'to'],
  ['cc', 'cc'],
  ['bcc', 'bcc'],
  ['reply-to', 'replyTo'],
  ['subject', 'subject'],
  ['mime-version', 'text, html and attachments'],
  ['content-type', 'text, html and attachments'],
  ['content-transfer-encoding', 'text, html and attachments'],
]);

interface CustomHeaderFields {
  readonly fields: readonly string[];
  /** A Message-ID or Date given as a header stands in for the generated one. */
  readonly messageId?: string;
  readonly date?: string;
}

function customHeaderFields(
  headers: Readonly<Record<string, string | readonly string[]>>,
): CustomHeaderFields {
  const fields: string[] = [];
  let messageId: string | undefined;
  let date: string | undefined;
  for (const [name, value] of Object.entries(headers)) {
    const lowerName = name.toLowerCase();
    const option = composedFields.get(lowerName);
    if (option !== undefined) {
      throw new SmtpUsageError(
        `The ${name} header is composed from ${option}: give it there, not as a header`,
      );
    }
    const values = typeof value === 'string' ? [value] : value;
    if (lowerName === 'message-id' && values[0] !== undefined) messageId = values[0];
    else if (lowerName === 'date' && values[0] !== undefined) date = values[0];
    else for (const item of values) fields.push(headerField(name, unstructuredValue(item)));
  }
  return {
    fields,
    ...(messageId !== undefined ? { messageId } : {}),
    ...(date !== undefined ? { date } : {}),
  };
}

/** Boundaries unique to the message: a random part (never guessable from content) and a counter. */
class BoundaryNames {
  readonly #random = randomUUID().replaceAll('-', '');
  #count = 0;

  next(): string {
    // RFC 2046 §5.1.1: at most 70 characters; "=_" never occurs in base64 or quoted-printable output.
    this.#count++;
    return `=_smtp_${this.#random}_${this.#count}`;
  }
}

/** The structure nodemailer's MailComposer gives the same options, so received mail looks the same. */
function messageTree(options: ComposeOptions, boundaries: BoundaryNames): MimePart {
  const text = isGiven(options.text) ? textPart('text/plain', options.text) : undefined;
  const html = isGiven(options.html) ? textPart('text/html', options.html) : undefined;
  const attachments = (options.attachments ?? []).map((attachment, index) =>
    attachmentPart(attachment, index, options.allowFileAccess === true),
  );
  // Images referenced from the HTML by cid: go next to it in multipart/related (RFC 2387).
  const related = html !== undefined ? attachments.filter((part) => part.cid !== undefined) : [];
  const attached = html !== undefined ? attachments.filter((part) => part.cid === undefined) : attachments;
  const htmlWithRelated =
    html !== undefined && related.length > 0
      ? multipart(
          'multipart/related; type="text/html"',
          [html, ...related.map((part) => part.part)],
          boundaries,
        )
      : html;
  const alternatives = [text, htmlWithRelated].filter((part) => part !== undefined);
  const content =
    alternatives.length > 1 ? multipart('multipart/alternative', alternatives, boundaries) : alternatives[0];
  if (attached.length > 1 || (content !== undefined && attached.length === 1)) {
    const parts = content !== undefined ? [content] : [];
    return multipart('multipart/mixed', [...parts, ...attached.map((part) => part.part)], boundaries);
  }
  return content ?? attached[0]?.part ?? textPart('text/plain', '');
}

function isGiven(
  content: string | Uint8Array | Readable | undefined,
): content is string | Uint8Array | Readable {
  if (content === undefined) return false;
  if (typeof content === 'string') return content !== '';
  return !(content instanceof Uint8Array) || content.byteLength > 0;
}

function multipart(contentType: string, parts: readonly MimePart[], boundaries: BoundaryNames): MimePart {
  const boundary = boundaries.next();
  return {
    type: 'multipart',
    // Folded before the boundary, which always makes the line longer than 76 characters.
    header: `Content-Type: ${contentType};\r\n boundary="${boundary}"\r\n\r\n`,
    boundary,
    parts,
  };
}

function textPart(type: 'text/plain' | 'text/html', content: string | Uint8Array | Readable): MimePart {
  if (content instanceof Readable) {
    // Not known in advance to be ASCII: quoted-printable as it streams.
    return {
      type: 'single',
      header: `Content-Type: ${type}; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n`,
      // pipeline, not pipe: a failing source must fail the message, not leave it waiting.
      body: { kind: 'stream', open: () => pipeline(content, new QuotedPrintableEncoder(), () => {}) },
    };
  }
  const encoded = encodeText(
    typeof content === 'string'
      ? content
      : Buffer.from(content.buffer, content.byteOffset, content.byteLength).toString('utf8'),
  );
  return {
    type: 'single',
    header: `Content-Type: ${type}; charset=utf-8\r\nContent-Transfer-Encoding: ${encoded.transferEncoding}\r\n\r\n`,
    body: { kind: 'encoded', bytes: encoded.body },
  };
}

interface AttachmentPart {
  readonly part: MimePart;
  readonly cid: string | undefined;
}

function attachmentPart(
  attachment: ComposeAttachment,
  index: number,
  allowFileAccess: boolean,
): AttachmentPart {
  const pathName = attachment.path !== undefined ? basename(attachment.path) : undefined;
  const contentType = attachment.contentType ?? detectMimeType(attachment.filename ?? pathName ?? 'bin');
  const isImage = /^image\//i.test(contentType);
  // RFC 2046 §5.2.1: a message/* body is never base64 or quoted-printable encoded.
  const isMessage = /^message\//i.test(contentType);
  const filename =
    attachment.filename ??
    pathName ??
    `attachment-${index + 1}.${detectExtension(contentType.split(';')[0])}`;
  const disposition =
    attachment.contentDisposition ??
    (isMessage || (isImage && attachment.cid !== undefined) ? 'inline' : 'attachment');
  const lines = [headerField('Content-Type', `${contentType}; name=${nameParameter(filename)}`)];
  if (attachment.cid !== undefined) lines.push(headerField('Content-ID', inAngleBrackets(attachment.cid)));
  for (const [name, value] of Object.entries(attachment.headers ?? {})) {
    lines.push(headerField(name, unstructuredValue(value)));
  }
  const body = isMessage
    ? unencodedBody(attachment, allowFileAccess)
    : attachmentBody(attachment, allowFileAccess);
  lines.push(`Content-Transfer-Encoding: ${isMessage ? unencodedTransferEncoding(body) : 'base64'}`);
  lines.push(
    headerField('Content-Disposition', buildHeaderValue({ value: disposition, params: { filename } })),
  );
  return { part: { type: 'single', header: `${lines.join('\r\n')}\r\n\r\n`, body }, cid: attachment.cid };
}

function attachmentBody(attachment: ComposeAttachment, allowFileAccess: boolean): PartBody {
  const { content, path } = attachment;
  if (content instanceof Readable) return { kind: 'base64-stream', open: () => content };
  if (content instanceof Uint8Array) return { kind: 'base64', bytes: content };
  if (typeof content === 'string') return { kind: 'base64', bytes: Buffer.from(content, 'utf8') };
  if (path !== undefined && allowFileAccess) {
    // Whole base64 lines per read: no bytes carried from one read to the next.
    return { kind: 'base64-stream', open: () => createReadStream(path, { highWaterMark: base64BlockBytes }) };
  }
  return { kind: 'base64', bytes: new Uint8Array(0) };
}

/** A message/* attachment as it is: 7bit when in memory and ASCII with short lines, otherwise 8bit. */
function unencodedBody(attachment: ComposeAttachment, allowFileAccess: boolean): PartBody {
  const { content, path } = attachment;
  if (content instanceof Readable) return { kind: 'stream', open: () => content };
  if (content instanceof Uint8Array) return { kind: 'encoded', bytes: content };
  if (typeof content === 'string') return { kind: 'encoded', bytes: Buffer.from(content, 'utf8') };
  if (path !== undefined && allowFileAccess) return { kind: 'stream', open: () => createReadStream(path) };
  return { kind: 'encoded', bytes: new Uint8Array(0) };
}

function unencodedTransferEncoding(body: PartBody): '7bit' | '8bit' {
  return body.kind === 'encoded' && isSevenBit(body.bytes) ? '7bit' : '8bit';
}

/** RFC 2045 §2.7: no byte above 127, no NUL, lines of at most 998 octets. */
function isSevenBit(bytes: Uint8Array): boolean {
  let lineOctets = 0;
  for (const byte of bytes) {
    if (byte === 0 || byte > 0x7f) return false;
    if (byte === 0x0a || byte === 0x0d) lineOctets = 0;
    else if (++lineOctets > 998) return false;
  }
  return true;
}

/**
 * The name parameter of Content-Type, for clients that do not read RFC 2231 (the filename parameter of
 * Content-Disposition carries it properly): RFC 2047 words in a quoted string, as nodemailer writes it.
 */
function nameParameter(filename: string): string {
  const encoded = unstructuredValue(filename);
  return encoded !== filename || /[\s'"\\;:/=(),<>@[\]?]|^-/.test(encoded)
    ? JSON.stringify(encoded)
    : encoded;
}

function addressesOf(
  value: ComposeAddress | readonly ComposeAddress[] | undefined,
  field: string,
): MailAddress[] {
  return value === undefined ? [] : parseAddresses(value, field);
}

function inAngleBrackets(id: string): string {
  const trimmed = id.trim();
  return `${trimmed.startsWith('<') ? '' : '<'}${trimmed}${trimmed.endsWith('>') ? '' : '>'}`;
}

function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 ? 'localhost' : address.slice(at + 1);
}

function checkHeaderValues(options: ComposeOptions): void {
  if (options.subject !== undefined) assertNoLineBreak(options.subject, 'subject');
  if (options.messageId !== undefined) assertNoLineBreak(options.messageId, 'messageId');
  for (const field of ['from', 'to', 'cc', 'bcc', 'replyTo'] as const) {
    const value = options[field];
    if (value === undefined) continue;
    for (const address of Array.isArray(value) ? value : [value]) {
      if (typeof address === 'string') assertNoLineBreak(address, field);
      else {
        assertNoLineBreak(address.address, field);
        if (address.name !== undefined) assertNoLineBreak(address.name, `${field} name`);
      }
    }
  }
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    // RFC 5322 §2.2: a field name is printable ASCII except ":".
    if (!/^[!-9;-~]+$/.test(name)) throw new SmtpUsageError(`Invalid header name ${JSON.stringify(name)}`);
    for (const item of typeof value === 'string' ? [value] : value) assertNoLineBreak(item, `header ${name}`);
  }
  for (const attachment of options.attachments ?? []) {
    if (attachment.filename !== undefined) assertNoLineBreak(attachment.filename, 'attachment filename');
    if (attachment.contentType !== undefined)
      assertNoLineBreak(attachment.contentType, 'attachment contentType');
    if (attachment.cid !== undefined) assertNoLineBreak(attachment.cid, 'attachment cid');
    for (const [name, value] of Object.entries(attachment.headers ?? {})) {
      if (!/^[!-9;-~]+$/.test(name)) throw new SmtpUsageError(`Invalid header name ${JSON.stringify(name)}`);
      assertNoLineBreak(value, `header ${name}`);
    }
    if (attachment.path !== undefined && !options.allowFileAccess) {
      throw new SmtpUsageError('Attachments with a path need compose({ allowFileAccess: true })');
    }
  }
}
