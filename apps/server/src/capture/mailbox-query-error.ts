/** A bad cursor or search a caller sent to MailboxIndex.list(): the HTTP layer answers 400. */
export class MailboxQueryError extends Error {
  override readonly name = 'MailboxQueryError';
}
