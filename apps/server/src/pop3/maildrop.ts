import type { MailboxIndex } from '../capture/mailbox-index.js';
import type { MaildropEntry } from './pop3-session.js';

const pageSize = 500;

/**
 * The inbox as it is now, oldest first: message 1 is the oldest (as mail clients expect). Read a
 * page at a time from the index; mail arriving meanwhile is in the next session's snapshot.
 */
export async function readMaildrop(mailbox: MailboxIndex): Promise<MaildropEntry[]> {
  const newestFirst: MaildropEntry[] = [];
  let cursor: string | null = null;
  do {
    const page = await mailbox.list({ limit: pageSize, ...(cursor === null ? {} : { cursor }) });
    for (const message of page.messages) newestFirst.push({ id: message.id, sizeBytes: message.sizeBytes });
    cursor = page.nextCursor;
  } while (cursor !== null);
  return newestFirst.reverse();
}
