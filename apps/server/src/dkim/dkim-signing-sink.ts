import type { AcceptedMessageSink } from '../listeners/accepted-message-sink.js';
import { addressesInHeader } from '../mime/header-addresses.js';
import { readMessageSource } from '../spool/read-message-source.js';
import type { DkimKey } from './dkim-signer.js';
import { signMessage } from './dkim-signer.js';

export interface DkimSigningOptions {
  /** mta.localDomains: mail From these (or their subdomains) is signed with d= that domain. */
  readonly localDomains: readonly string[];
  readonly keys: readonly DkimKey[];
  readonly now?: () => number;
}

/**
 * Signs outbound mail at acceptance, after the RFC 6409 fix-ups and before spooling, so the queue
 * stores and every retry sends the signed bytes: the DKIM-Signature fields go in front of the
 * message. d= is the From header's domain (DMARC aligns on it, RFC 7489 §3.1.1) when it is one of
 * ours; mail From elsewhere (relayed for others) goes unsigned. The message is read whole first:
 * the signature needs the body hash, and the spool holds messages whole anyway.
 */
export function createDkimSigningSink(
  inner: AcceptedMessageSink,
  options: DkimSigningOptions,
): AcceptedMessageSink {
  return {
    async accept(message) {
      const raw = await readMessageSource(message.source);
      await inner.accept({ ...message, source: oneChunk(signIfOurs(raw, options)) });
    },
  };
}

/**
 * The message with DKIM-Signature fields in front when its From domain is one of ours (see
 * signingDomain), else the message as it is. The MTA's own DSNs (From MAILER-DAEMON@mta.hostname)
 * go through it too: signed when the host name is a local domain or under one.
 */
export function signIfOurs(raw: Uint8Array, options: DkimSigningOptions): Uint8Array {
  const domains = options.localDomains.map((domain) => domain.toLowerCase());
  const domain = signingDomain(raw, domains);
  if (domain === null || options.keys.length === 0) return raw;
  const now = options.now ?? Date.now;
  const signatures = Buffer.from(signMessage(raw, { domain, keys: options.keys, now: now() }), 'latin1');
  return Buffer.concat([signatures, raw]);
}

/** The local domain to sign for: the From address's domain or the local domain it is under. */
export function signingDomain(raw: Uint8Array, localDomains: readonly string[]): string | null {
  const fromValues = headerValues(raw, 'from');
  const [address] = addressesInHeader(fromValues);
  if (address === undefined) return null;
  const domain = address.slice(address.lastIndexOf('@') + 1).toLowerCase();
  return localDomains.includes(domain) || localDomains.some((local) => domain.endsWith(`.${local}`))
    ? domain
    : null;
}

/** Unfolded values of a header field (RFC 5322 §2.2.3), read as Latin-1 up to the empty line. */
function headerValues(raw: Uint8Array, name: string): string[] {
  const bytes = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const end = bytes.indexOf('\r\n\r\n');
  const section = bytes.subarray(0, end === -1 ? bytes.length : end).toString('latin1');
  const values: string[] = [];
  for (const field of section.split(/\r\n(?![ \t])/)) {
    const colon = field.indexOf(':');
    if (colon !== -1 && field.slice(0, colon).trim().toLowerCase() === name)
      values.push(field.slice(colon + 1).replace(/\r\n/g, ''));
  }
  return values;
}

async function* oneChunk(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}
