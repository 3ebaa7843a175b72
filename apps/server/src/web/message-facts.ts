import type { Address, Attachment, Message, SmtpListeners } from './api.js';

/**
 * What the message view derives from a message for people to read: the blind copies, the greeting
 * the client used, the attachments worth listing. Pure, so the rules are tested without a browser.
 */

/**
 * Bcc recipients: the Bcc header's (rarely kept by the sender), and the envelope's recipients the
 * To and Cc headers do not name (RFC 5322 §3.6.3: that is what a blind copy is).
 */
export function blindCopiesOf(message: Pick<Message, 'to' | 'cc' | 'bcc' | 'envelope'>): Address[] {
  const named = new Set(
    [...message.to, ...message.cc, ...message.bcc].map((each) => each.address.toLowerCase()),
  );
  const fromEnvelope = message.envelope.to
    .filter((recipient) => !named.has(recipient.toLowerCase()))
    .map((recipient) => ({ name: '', address: recipient }));
  const unique = new Map<string, Address>();
  for (const address of [...message.bcc, ...fromEnvelope]) unique.set(address.address.toLowerCase(), address);
  return [...unique.values()];
}

/**
 * The greeting command the client sent: RFC 3848 names the protocol ESMTP… after EHLO, SMTP after
 * HELO, LMTP after LHLO.
 */
export function greetingCommandOf(protocol: string): 'EHLO' | 'HELO' | 'LHLO' {
  if (protocol.startsWith('ESMTP')) return 'EHLO';
  if (protocol.startsWith('LMTP')) return 'LHLO';
  return 'HELO';
}

/** Attachments to list: not the inline images the HTML shows already (referenced as cid:). */
export function listedAttachmentsOf(message: Pick<Message, 'attachments' | 'html'>): Attachment[] {
  const html = message.html ?? '';
  return message.attachments.filter((attachment) => {
    if (attachment.contentId === null || attachment.disposition === 'attachment') return true;
    const contentId = attachment.contentId.replace(/^<|>$/g, '');
    return !html.toLowerCase().includes(`cid:${contentId.toLowerCase()}`);
  });
}

/**
 * Where to send mail, as the empty inbox says it: "127.0.0.1 port 2525". A wildcard listen address
 * (0.0.0.0, ::) is named by the host this page was loaded from.
 */
export function formatSendTo(info: Pick<SmtpListeners, 'smtp' | 'smtps'>, pageHost: string): string {
  const hostOf = (host: string) => (host === '0.0.0.0' || host === '::' ? pageHost : host);
  const smtp = `${hostOf(info.smtp.host)} port ${info.smtp.port}`;
  return info.smtps === null ? smtp : `${smtp} (implicit TLS: port ${info.smtps.port})`;
}
