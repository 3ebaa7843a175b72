import type { Readable } from 'node:stream';
import { SmtpUsageError } from '@smtp/protocol';
import MailComposer from 'nodemailer/lib/mail-composer';
import { assertNoLineBreak } from './envelope.js';

/** `"Name" <user@example.com>` or its parts. */
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
 * Builds a MIME message (RFC 5322, 2045-2049) with nodemailer's MailComposer, the most used and best
 * maintained MIME generator for Node: multipart/alternative text+html, attachments and inline images,
 * RFC 2047 headers, quoted-printable/base64 bodies. The result spreads into `send()`:
 * `client.send(compose({ ... }))`.
 */
export function compose(options: ComposeOptions): ComposedMessage {
  checkHeaderValues(options);
  const composer = new MailComposer({
    from: toAddress(options.from),
    ...(options.to !== undefined ? { to: toAddresses(options.to) } : {}),
    ...(options.cc !== undefined ? { cc: toAddresses(options.cc) } : {}),
    ...(options.bcc !== undefined ? { bcc: toAddresses(options.bcc) } : {}),
    ...(options.replyTo !== undefined ? { replyTo: toAddresses(options.replyTo) } : {}),
    ...(options.subject !== undefined ? { subject: options.subject } : {}),
    ...(options.text !== undefined ? { text: toContent(options.text) } : {}),
    ...(options.html !== undefined ? { html: toContent(options.html) } : {}),
    ...(options.messageId !== undefined ? { messageId: options.messageId } : {}),
    ...(options.date !== undefined ? { date: options.date } : {}),
    ...(options.headers !== undefined
      ? {
          headers: Object.fromEntries(
            Object.entries(options.headers).map(([key, value]) => [
              key,
              typeof value === 'string' ? value : [...value],
            ]),
          ),
        }
      : {}),
    attachments: (options.attachments ?? []).map((attachment) => ({
      ...(attachment.filename !== undefined ? { filename: attachment.filename } : {}),
      ...(attachment.content !== undefined ? { content: toContent(attachment.content) } : {}),
      ...(attachment.path !== undefined ? { path: attachment.path } : {}),
      ...(attachment.contentType !== undefined ? { contentType: attachment.contentType } : {}),
      ...(attachment.contentDisposition !== undefined
        ? { contentDisposition: attachment.contentDisposition }
        : {}),
      ...(attachment.cid !== undefined ? { cid: attachment.cid } : {}),
      ...(attachment.headers !== undefined ? { headers: { ...attachment.headers } } : {}),
    })),
    // No network fetches ever; local files only when asked for.
    disableUrlAccess: true,
    disableFileAccess: !options.allowFileAccess,
    xMailer: false,
  });
  const node = composer.compile();
  const envelope = node.getEnvelope();
  if (envelope.from === false || envelope.from === '')
    throw new SmtpUsageError('compose() needs a from address');
  if (envelope.to.length === 0) throw new SmtpUsageError('compose() needs at least one of to, cc or bcc');
  return {
    from: envelope.from,
    to: envelope.to,
    message: node.createReadStream(),
    messageId: node.messageId(),
  };
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

function toAddress(address: ComposeAddress): string | { name: string; address: string } {
  return typeof address === 'string' ? address : { name: address.name ?? '', address: address.address };
}

function toAddresses(
  value: ComposeAddress | readonly ComposeAddress[],
): (string | { name: string; address: string })[] {
  return (Array.isArray(value) ? value : [value]).map((address: ComposeAddress) => toAddress(address));
}

function toContent(content: string | Uint8Array | Readable): string | Buffer | Readable {
  if (content instanceof Uint8Array)
    return Buffer.from(content.buffer, content.byteOffset, content.byteLength);
  return content;
}
