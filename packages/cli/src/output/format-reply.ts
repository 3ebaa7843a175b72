import { describeEnhancedStatus, type Reply } from '@smtp/protocol';

/** A reply on one line: `550 5.1.1 No such user`, multi-line texts joined with " / ". */
export function formatReply(reply: {
  readonly code: number;
  readonly enhanced: string | null;
  readonly lines: readonly string[];
}): string {
  const text = reply.lines.join(' / ');
  return `${reply.code}${reply.enhanced ? ` ${reply.enhanced}` : ''}${text ? ` ${text}` : ''}`;
}

/** The RFC 3463 title of the enhanced code, e.g. "Bad destination mailbox address", or null. */
export function explainReply(reply: Reply): string | null {
  return reply.enhanced ? describeEnhancedStatus(reply.enhanced) : null;
}

/** The JSON form of a reply, as in schemas/*.schema.json. */
export function replyToJson(reply: Reply): { code: number; enhanced: string | null; lines: string[] } {
  return { code: reply.code, enhanced: reply.enhanced, lines: [...reply.lines] };
}
