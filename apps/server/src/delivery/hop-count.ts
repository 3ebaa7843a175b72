import type { Reply } from '@smtp/protocol';

/**
 * Mail loop detection by counting Received fields (RFC 5321 §6.3: "a rule of thumb ... a large
 * number, at least 100"). A message that has passed more hops than that is failed, not relayed again.
 */
export const maxHops = 100;

export const tooManyHopsReply: Reply = {
  code: 554,
  enhanced: '5.4.6',
  lines: [`Too many hops: more than ${maxHops} Received fields (mail loop?)`],
};

/** Received fields in a header section (field names are case-insensitive, RFC 5322 §1.2.2). */
export function countReceivedFields(headerSection: string): number {
  let count = 0;
  for (const _ of headerSection.matchAll(/(?:^|\r?\n)received[ \t]*:/gi)) count++;
  return count;
}

/** The reply to fail the message with, or null when it may travel on. */
export function hopCountVerdict(receivedFields: number, limit = maxHops): Reply | null {
  return receivedFields > limit ? tooManyHopsReply : null;
}
