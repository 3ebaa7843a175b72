import type { MessageSummary } from './mailbox-index.js';

/** What changes in the mailbox, as the event bus carries it to the web UI's event stream. */
export type MailboxEvent =
  | { readonly type: 'message-stored'; readonly message: MessageSummary }
  | { readonly type: 'message-updated'; readonly id: string; readonly isRead: boolean }
  | { readonly type: 'messages-read'; readonly count: number }
  | { readonly type: 'message-tagged'; readonly id: string; readonly tags: readonly string[] }
  /** A tag was renamed or deleted on every message: lists showing tags reload. */
  | { readonly type: 'tags-changed' }
  | { readonly type: 'message-deleted'; readonly ids: readonly string[] }
  | { readonly type: 'messages-cleared' };
