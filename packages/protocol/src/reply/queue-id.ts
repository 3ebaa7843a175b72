import type { Reply } from './reply.js';

/** Longer tokens are not queue ids: a guard against taking a sentence or a blob for one. */
const maxQueueIdLength = 128;
/** Printable ASCII without spaces, angle brackets or the punctuation that ends a sentence. */
const queueIdPattern = /^[A-Za-z0-9][!-~]*$/;
/** A reply built without a parser may still carry its RFC 3463 status in the text. */
const leadingEnhancedStatus = /^[245]\.\d{1,3}\.\d{1,3}(?:\s+|$)/;

/**
 * One server family's wording of the reply to the end of data, and where the id sits in it. Order
 * matters: the first rule that matches decides. Patterns are anchored or bounded by fixed words so
 * that they stay linear on long replies.
 */
const rules: readonly RegExp[] = [
  // Postfix "Ok: queued as 4XyZ1k2Abc"; @smtp/cli serve and apps/server "Queued as <id>";
  // aiosmtpd handlers in the wild "OK queued as <id>".
  /\bqueued as:?\s+<?([^\s<>;,]+)/i,
  // Exim "OK id=1rABCd-000123-XY".
  /(?:^|\s)id=<?([^\s<>;,]+)/i,
  // Haraka "Message Queued (5E3C9A8D-...)".
  /\bmessage queued \(([^\s()]+)\)/i,
  // Sendmail "xAB12345 Message accepted for delivery" (the enhanced status is already stripped).
  /^([A-Za-z0-9]{6,20})\s+Message accepted for delivery\b/i,
  // Gmail "OK  1700000000 a1b2c3d4e5-...si123.250 - gsmtp": a Unix time, then the id.
  /^OK\s+\d{9,11}\s+(\S+)\s+-\s+gsmtp\s*$/i,
  // Amazon SES "Ok 0100018c2b3a4d5e-1a2b3c4d-...-000000".
  /^Ok\s+([0-9a-f]{16}-[0-9a-f-]{8,})\s*$/i,
];

/**
 * The server's queue id from a 2xx reply to the end of data (".", BDAT LAST or an LMTP per-recipient
 * reply), for the forms in common use: Postfix, Exim, Sendmail, Gmail, Amazon SES, Haraka, and the
 * "Queued as <id>" of @smtp/cli serve. Undefined when the reply names none (e.g. Microsoft's "Queued mail
 * for delivery", @smtp/server's default "Message accepted") or is not a 2xx. RFC 5321 §4.2 leaves the text
 * free, so this is a heuristic; it never throws, whatever the reply holds.
 */
export function extractQueueId(reply: Reply): string | undefined {
  if (typeof reply !== 'object' || reply === null) return undefined;
  if (typeof reply.code !== 'number' || reply.code < 200 || reply.code > 299) return undefined;
  if (!Array.isArray(reply.lines)) return undefined;
  for (const line of reply.lines) {
    if (typeof line !== 'string') continue;
    const text = line.trim().replace(leadingEnhancedStatus, '');
    for (const rule of rules) {
      const match = rule.exec(text);
      if (match === null) continue;
      const id = trimTrailingPunctuation(match[1] ?? '');
      if (id.length > 0 && id.length <= maxQueueIdLength && queueIdPattern.test(id)) return id;
    }
  }
  return undefined;
}

/** "queued as ABC123." ends a sentence; the dot is not part of the id (ids such as "a.1" keep theirs). */
function trimTrailingPunctuation(token: string): string {
  let end = token.length;
  while (end > 0 && '.):;,'.includes(token.charAt(end - 1))) end--;
  return token.slice(0, end);
}
