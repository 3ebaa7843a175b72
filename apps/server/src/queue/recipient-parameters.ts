import type { DsnNotify } from '@smtp/protocol';
import type { OriginalRecipient } from './delivery-queue.js';

/**
 * The RCPT parameters a delivery keeps for its DSNs (RFC 3461): NOTIFY and ORCPT. The stored
 * envelope has only addresses, so the router writes them into each delivery row, and these are the
 * row's text forms: `NEVER` or `SUCCESS,FAILURE`; `rfc822;alice@example.com`.
 */
export interface RecipientParameters {
  readonly notify?: DsnNotify;
  readonly orcpt?: OriginalRecipient;
}

export function serializeNotify(notify: DsnNotify | undefined): string | null {
  if (notify === undefined) return null;
  return notify === 'NEVER' ? 'NEVER' : notify.join(',');
}

export function parseNotify(text: string | null): DsnNotify | null {
  if (text === null) return null;
  if (text === 'NEVER') return 'NEVER';
  const keywords = text
    .split(',')
    .filter(
      (word): word is 'SUCCESS' | 'FAILURE' | 'DELAY' =>
        word === 'SUCCESS' || word === 'FAILURE' || word === 'DELAY',
    );
  return keywords.length === 0 ? null : keywords;
}

export function serializeOriginalRecipient(original: OriginalRecipient | undefined): string | null {
  return original === undefined ? null : `${original.addressType};${original.address}`;
}

export function parseOriginalRecipient(text: string | null): OriginalRecipient | null {
  if (text === null) return null;
  const separator = text.indexOf(';');
  if (separator === -1) return null;
  return { addressType: text.slice(0, separator), address: text.slice(separator + 1) };
}
