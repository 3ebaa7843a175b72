import type { Address, Attachment, Email } from 'postal-mime';
import PostalMime from 'postal-mime';
import { headerSectionEnd } from './header-fields.js';
import type { MessageParser } from './message-parser.js';
import {
  type AttachmentMetadata,
  emptyParsedMessage,
  type MessageAddress,
  type ParsedMessage,
} from './parsed-message.js';

export interface AttachmentContent {
  readonly metadata: AttachmentMetadata;
  readonly content: Uint8Array;
}

/**
 * Parses a message with postal-mime: zero dependencies, TypeScript types that hold under
 * exactOptionalPropertyTypes, RFC 2047/2231 decoding and charset handling through TextDecoder.
 * It never throws on malformed input in practice; if it does, the message is still stored with
 * what we could read (a capture tool must keep every message, broken ones above all).
 */
export async function parseMessage(raw: Uint8Array): Promise<ParsedMessage> {
  let email: Email;
  try {
    email = await PostalMime.parse(raw, { attachmentEncoding: 'arraybuffer' });
  } catch {
    return emptyParsedMessage;
  }
  const dateHeaderMs = email.date === undefined ? Number.NaN : Date.parse(email.date);
  return {
    subject: email.subject ?? '',
    from: email.from === undefined ? null : (flattenAddresses([email.from])[0] ?? null),
    to: flattenAddresses(email.to ?? []),
    cc: flattenAddresses(email.cc ?? []),
    bcc: flattenAddresses(email.bcc ?? []),
    replyTo: flattenAddresses(email.replyTo ?? []),
    messageIdHeader: email.messageId ?? null,
    dateHeaderMs: Number.isNaN(dateHeaderMs) ? null : dateHeaderMs,
    headers: email.headers.map((header) => ({ name: header.originalKey, value: header.value })),
    text: email.text ?? null,
    html: email.html ?? null,
    attachments: email.attachments.map(toMetadata),
  };
}

/**
 * The header section alone, parsed as parseMessage parses it (same decoding of addresses, encoded
 * words and dates) but without reading a byte of the body: no text, no HTML, no attachments, and
 * `bodyParsed: false` to say so. What the MTA's inbox keeps of relayed mail (mta.indexBodies), at a
 * fraction of a full parse's cost (postal-mime reads the body line by line).
 */
export async function parseHeaderSection(raw: Uint8Array): Promise<ParsedMessage> {
  let end = headerSectionEnd(raw);
  while (end > 0 && (raw[end - 1] === 0x0a || raw[end - 1] === 0x0d)) end -= 1;
  // The fields, then an empty line and no body: a multipart type finds no part to read.
  const section = new Uint8Array(end + 4);
  section.set(raw.subarray(0, end));
  section.set([0x0d, 0x0a, 0x0d, 0x0a], end);
  const parsed = await parseMessage(section);
  return { ...parsed, text: null, html: null, attachments: [], bodyParsed: false };
}

/** How much of a message index() parses: all of it, or its header section (parseHeaderSection). */
export type ParseScope = 'message' | 'headers';

/** Parses `raw` as far as `scope` says: a header section right here, a whole message with `parse`. */
export function parseInScope(
  raw: Uint8Array,
  scope: ParseScope,
  parse: MessageParser,
): Promise<ParsedMessage> {
  return scope === 'headers' ? parseHeaderSection(raw) : parse(raw);
}

/** Attachment bytes are not stored twice: they are decoded from the raw message on download. */
export async function extractAttachment(raw: Uint8Array, index: number): Promise<AttachmentContent | null> {
  const email = await PostalMime.parse(raw, { attachmentEncoding: 'arraybuffer' });
  const attachment = email.attachments[index];
  if (attachment === undefined) return null;
  return { metadata: toMetadata(attachment, index), content: contentBytes(attachment.content) };
}

function flattenAddresses(addresses: readonly Address[]): MessageAddress[] {
  return addresses.flatMap((address) =>
    address.group === undefined
      ? [{ name: address.name, address: address.address }]
      : address.group.map((member) => ({ name: member.name, address: member.address })),
  );
}

function toMetadata(attachment: Attachment, index: number): AttachmentMetadata {
  const disposition: AttachmentMetadata['disposition'] =
    attachment.disposition === 'attachment'
      ? 'attachment'
      : attachment.disposition === 'inline'
        ? 'inline'
        : null;
  return {
    index,
    filename: attachment.filename,
    contentType: attachment.mimeType,
    disposition,
    contentId: attachment.contentId?.replace(/^<|>$/g, '') ?? null,
    sizeBytes: contentBytes(attachment.content).byteLength,
  };
}

function contentBytes(content: ArrayBuffer | Uint8Array | string): Uint8Array {
  if (typeof content === 'string') return new TextEncoder().encode(content);
  return content instanceof Uint8Array ? content : new Uint8Array(content);
}
