import type { Reply } from '@smtp/protocol';

/** A reply on one line as the server wrote it: `450 4.2.0 Mailbox busy`. */
export function replyText(reply: Reply): string {
  return `${reply.code}${reply.enhanced === null ? '' : ` ${reply.enhanced}`} ${reply.lines.join(' ')}`.trimEnd();
}
