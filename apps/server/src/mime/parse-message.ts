import type { Address, Attachment, Email } from 'postal-mime';
import PostalMime from 'postal-mime';
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
