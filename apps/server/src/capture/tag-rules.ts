import { uniqueTags } from './message-tags.js';

/**
 * A rule that tags messages at receive: every condition given must hold (case-insensitive
 * substring); a rule with no condition tags every message.
 */
export interface TagRule {
  /** Contained in a recipient (envelope RCPT TO or a To/Cc header address). */
  readonly recipient?: string | undefined;
  /** Contained in the sender (envelope MAIL FROM or the From header). */
  readonly sender?: string | undefined;
  /** Contained in the decoded Subject. */
  readonly subject?: string | undefined;
  readonly tags: readonly string[];
}

/** What rules look at, known before the message is parsed (envelope and header fields). */
export interface TagFacts {
  readonly senders: readonly string[];
  readonly recipients: readonly string[];
  readonly subject: string;
}

/** The tags every matching rule adds, without duplicates. Pure. */
export function tagsByRules(rules: readonly TagRule[], facts: TagFacts): string[] {
  const tags: string[] = [];
  for (const rule of rules) {
    if (
      containedInAny(rule.recipient, facts.recipients) &&
      containedInAny(rule.sender, facts.senders) &&
      containedInAny(rule.subject, [facts.subject])
    ) {
      tags.push(...rule.tags);
    }
  }
  return uniqueTags(tags);
}

function containedInAny(needle: string | undefined, haystacks: readonly string[]): boolean {
  if (needle === undefined) return true;
  const lowered = needle.toLowerCase();
  return haystacks.some((haystack) => haystack.toLowerCase().includes(lowered));
}
