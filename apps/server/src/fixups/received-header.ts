import type { ReceivedWithProtocol } from '@smtp/protocol';

export interface ReceivedHeaderInput {
  /** Our name (the "by" clause). */
  readonly hostname: string;
  /** The EHLO/HELO argument as given, or null. */
  readonly clientHostname: string | null;
  readonly clientAddress: string;
  readonly protocol: ReceivedWithProtocol;
  /** The id that finds this message in our logs and store. */
  readonly id: string;
  /** The "for" clause is written only for a single recipient, so Bcc recipients stay hidden (RFC 5321 §7.2). */
  readonly recipients: readonly string[];
  readonly tls: { readonly protocol: string; readonly cipher: string } | null;
  readonly date: Date;
}

/**
 * The Received line a receiving server prepends (RFC 5321 §4.4), folded with CRLF + tab, ending in
 * CRLF: `from <helo> (<helo> [<ip>])`, a TLS comment, `by <host> with <keyword> id <id>`, `for`, date.
 */
export function formatReceivedHeader(input: ReceivedHeaderInput): string {
  const helo = input.clientHostname ?? 'unknown';
  const lines = [`Received: from ${helo} (${helo} [${addressLiteral(input.clientAddress)}])`];
  if (input.tls !== null) lines.push(`(using ${input.tls.protocol} with cipher ${input.tls.cipher})`);
  const by = `by ${input.hostname} with ${input.protocol} id ${input.id}`;
  const recipient = input.recipients.length === 1 ? input.recipients[0] : undefined;
  if (recipient === undefined) lines.push(`${by};`);
  else lines.push(by, `for <${recipient}>;`);
  lines.push(formatDate(input.date));
  return `${lines.join('\r\n\t')}\r\n`;
}

/** RFC 5321 §4.1.3: IPv6 literals carry the "IPv6:" tag; IPv4-mapped IPv6 is shown as IPv4. */
function addressLiteral(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped !== null) return mapped[1] ?? address;
  return address.includes(':') ? `IPv6:${address}` : address;
}

/** RFC 5322 §3.3 date-time in UTC: "Sun, 06 Dec 2026 09:08:00 +0000". */
export function formatDate(date: Date): string {
  return date.toUTCString().replace(/GMT$/, '+0000');
}
