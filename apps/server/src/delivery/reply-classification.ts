import type { EnhancedStatus, Reply } from '@smtp/protocol';

/**
 * What a remote reply means for a delivery: delivered, deferred (try again later) or failed (bounce),
 * and how far it reaches: the connection (every recipient on that host, and the destination window),
 * the message (all its recipients in this session) or one recipient. Pure: the same reply and facts
 * always give the same verdict, so each rule below is tested by itself.
 *
 * The first digit decides most replies (RFC 5321 §4.2.1), but real servers say some things with the
 * wrong one, and a queue that believed them would bounce mail that would have arrived, or retry for
 * five days mail that never will:
 * - a 5xx whose text says greylisting or "try again later", or whose enhanced code is 4.x.x → deferred;
 * - a 4xx that says "user unknown" (x.1.1 and kin) → deferred for a while, then failed;
 * - mailbox full (x.2.2, or 452/552 about quota) → deferred (RFC 3463: a persistent transient failure);
 * - 552 to RCPT → deferred (RFC 5321 §4.5.3.1.10: old servers said 552 for "too many recipients").
 */

export type ReplyStage = 'connect' | 'greeting' | 'ehlo' | 'tls' | 'mail' | 'rcpt' | 'data' | 'unknown';
export type ReplyScope = 'connection' | 'message' | 'recipient';

export interface ReplyFacts {
  /** The reply, or null when none came (refused connection, timeout, reset). */
  readonly reply: Reply | null;
  /** The command it answered; `unknown` when the transport cannot say (treated as a recipient's). */
  readonly stage: ReplyStage;
  /** The first attempt for this delivery and now, for replies that are only believed after a while. */
  readonly firstAttemptAt: number;
  readonly now: number;
}

export interface ClassificationOptions {
  /** How long a 4xx "user unknown" is retried before it is taken for the permanent failure it is. */
  readonly unknownUserFailAfter: number;
}

export const defaultClassificationOptions: ClassificationOptions = { unknownUserFailAfter: 24 * 60 * 60_000 };

/** The rule that decided a verdict, for the attempt record and the tests. */
export const classificationRules = [
  'accepted',
  'no-reply',
  'service-closing',
  'too-many-recipients',
  'mailbox-full',
  'temporary-text',
  'class-mismatch',
  'unknown-user-temporary',
  'temporary',
  'permanent',
  'protocol-error',
] as const;
export type ClassificationRule = (typeof classificationRules)[number];

export interface ReplyVerdict {
  readonly outcome: 'delivered' | 'deferred' | 'failed';
  readonly scope: ReplyScope;
  /** The status for the DSN and the queue page, its class agreeing with the outcome. */
  readonly status: EnhancedStatus;
  readonly rule: ClassificationRule;
}

const temporaryText =
  /greylist|graylist|try (?:again )?later|temporar(?:y|ily)|please retry|retry later|rate.?limit|too many (?:connections|messages)|throttl/i;
const unknownUserText =
  /user unknown|unknown (?:user|recipient)|no such (?:user|mailbox|recipient)|does not exist|invalid recipient|recipient (?:address )?rejected/i;
const mailboxFullText = /mailbox (?:is )?full|over ?quota|quota exceeded|insufficient (?:system )?storage/i;
const tooManyRecipientsText = /too many recipients/i;
/** RFC 3463 §3.2: bad mailbox, bad domain, bad address syntax, moved mailbox, disabled mailbox. */
const addressDetails = new Set(['1.1', '1.2', '1.3', '1.6', '2.1']);

export function classifyReply(
  facts: ReplyFacts,
  options: ClassificationOptions = defaultClassificationOptions,
): ReplyVerdict {
  const { reply } = facts;
  const stageScope = scopeOf(facts.stage);
  if (reply === null) return verdict('deferred', 'connection', '4.4.1', 'no-reply');
  const text = reply.lines.join(' ');
  const detail = reply.enhanced?.slice(2) ?? null; // "5.1.1" → "1.1"
  const firstDigit = Math.floor(reply.code / 100);
  if (firstDigit === 2) return verdict('delivered', stageScope, reply.enhanced ?? '2.0.0', 'accepted');
  // RFC 5321 §3.8: 421 means the server is closing the channel, whatever command it answered.
  if (reply.code === 421)
    return verdict('deferred', 'connection', temporary(reply.enhanced, '4.3.2'), 'service-closing');
  if (firstDigit !== 4 && firstDigit !== 5)
    return verdict('deferred', 'connection', '4.5.0', 'protocol-error');
  if (
    facts.stage === 'rcpt' &&
    reply.code === 552 &&
    (detail === '5.3' || tooManyRecipientsText.test(text) || reply.enhanced === null)
  )
    return verdict('deferred', 'recipient', '4.5.3', 'too-many-recipients');
  if (
    detail === '2.2' ||
    ((reply.code === 452 || reply.code === 552) && mailboxFullText.test(text) && detail !== '3.4')
  )
    return verdict('deferred', stageScope, '4.2.2', 'mailbox-full');
  if (firstDigit === 5) {
    if (reply.enhanced?.startsWith('4.'))
      return verdict('deferred', stageScope, reply.enhanced, 'class-mismatch');
    if (temporaryText.test(text) && (detail === null || !addressDetails.has(detail)))
      return verdict('deferred', stageScope, temporary(reply.enhanced, '4.0.0'), 'temporary-text');
    return verdict('failed', stageScope, permanent(reply.enhanced, '5.0.0'), 'permanent');
  }
  const looksUnknown =
    (detail !== null && addressDetails.has(detail) && detail !== '2.1') || unknownUserText.test(text);
  if (looksUnknown && facts.stage !== 'connect' && facts.stage !== 'greeting' && facts.stage !== 'ehlo') {
    const failed = facts.now - facts.firstAttemptAt >= options.unknownUserFailAfter;
    return failed
      ? verdict('failed', stageScope, permanent(reply.enhanced, '5.1.1'), 'unknown-user-temporary')
      : verdict('deferred', stageScope, temporary(reply.enhanced, '4.1.1'), 'unknown-user-temporary');
  }
  return verdict('deferred', stageScope, temporary(reply.enhanced, '4.0.0'), 'temporary');
}

function scopeOf(stage: ReplyStage): ReplyScope {
  if (stage === 'connect' || stage === 'greeting' || stage === 'ehlo' || stage === 'tls') return 'connection';
  if (stage === 'mail' || stage === 'data') return 'message';
  return 'recipient';
}

/** The enhanced status with its class set to 4 (or the fallback when there is none). */
function temporary(enhanced: EnhancedStatus | null, fallback: EnhancedStatus): EnhancedStatus {
  return enhanced === null ? fallback : (`4${enhanced.slice(1)}` as EnhancedStatus);
}

function permanent(enhanced: EnhancedStatus | null, fallback: EnhancedStatus): EnhancedStatus {
  return enhanced === null ? fallback : (`5${enhanced.slice(1)}` as EnhancedStatus);
}

function verdict(
  outcome: ReplyVerdict['outcome'],
  scope: ReplyScope,
  status: EnhancedStatus,
  rule: ClassificationRule,
): ReplyVerdict {
  return { outcome, scope, status, rule };
}
