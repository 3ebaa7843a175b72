import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The Sender Rewriting Scheme, SRS0 form (no RFC; Shevek's "Sender Rewriting Scheme" paper and
 * libsrs2, which Postfix's postsrsd uses). A forwarder that kept the original envelope sender
 * would fail the sender domain's SPF check at the destination (RFC 7208 §1.2), so forwarded mail
 * leaves with
 *
 *   SRS0=HHHH=TT=example.org=alice@forwarder.test
 *
 * HHHH: the first 4 characters of base64(HMAC-SHA1(secret, TT + domain + local part)), TT: the day
 * (days since the epoch, mod 1024) in 2 base32 characters. A bounce to that address is accepted
 * only with a valid hash and a timestamp younger than maxAgeDays, and goes to alice@example.org:
 * nobody can use the forwarder as an open relay by making up SRS addresses.
 * Simplification: a sender that is already SRS0 is wrapped again (not shortened to SRS1).
 */
export interface SrsOptions {
  readonly secret: string;
  /** Our domain: the rewritten sender's domain (the forwarder's, whose SPF covers it). */
  readonly domain: string;
  readonly maxAgeDays: number;
}

const base32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const dayMs = 86_400_000;
const timestampModulus = 1024;

export interface Srs {
  /** The rewritten sender for `sender` (`local@domain`); the null sender stays null. */
  forward(sender: string, nowMs: number): string;
  /** The original sender an SRS0 local part stands for, or null when it is not one of ours (or too old). */
  reverse(localPart: string, nowMs: number): string | null;
}

export function createSrs(options: SrsOptions): Srs {
  const hash = (timestamp: string, domain: string, localPart: string) =>
    createHmac('sha1', options.secret)
      .update(`${timestamp}${domain}${localPart}`.toLowerCase())
      .digest('base64')
      .slice(0, 4);
  return {
    forward(sender, nowMs) {
      const at = sender.lastIndexOf('@');
      const localPart = sender.slice(0, at);
      const domain = sender.slice(at + 1);
      const timestamp = encodeTimestamp(nowMs);
      return `SRS0=${hash(timestamp, domain, localPart)}=${timestamp}=${domain}=${localPart}@${options.domain}`;
    },
    reverse(localPart, nowMs) {
      const match = /^srs0[=+-]([^=]{4})=([A-Za-z2-7]{2})=([^=]+)=(.+)$/i.exec(localPart);
      if (match === null) return null;
      const [, givenHash, timestamp, domain, originalLocal] = match as unknown as [
        string,
        string,
        string,
        string,
        string,
      ];
      const expected = hash(timestamp.toUpperCase(), domain, originalLocal);
      // Local parts may come back lower-cased by another MTA: compare case-insensitively (libsrs2 does).
      const given = Buffer.from(givenHash.toLowerCase());
      if (given.length !== 4 || !timingSafeEqual(given, Buffer.from(expected.toLowerCase()))) return null;
      if (ageInDays(timestamp.toUpperCase(), nowMs) > options.maxAgeDays) return null;
      return `${originalLocal}@${domain}`;
    },
  };
}

function encodeTimestamp(nowMs: number): string {
  const day = Math.floor(nowMs / dayMs) % timestampModulus;
  return `${base32[day >> 5]}${base32[day & 31]}`;
}

/** Days since the timestamp's day, modulo the 1024-day cycle. */
function ageInDays(timestamp: string, nowMs: number): number {
  const stamped = base32.indexOf(timestamp[0] as string) * 32 + base32.indexOf(timestamp[1] as string);
  const today = Math.floor(nowMs / dayMs) % timestampModulus;
  return (today - stamped + timestampModulus) % timestampModulus;
}
