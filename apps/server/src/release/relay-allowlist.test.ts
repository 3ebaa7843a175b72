import { describe, expect, it } from 'vitest';
import { isRecipientAllowed, refusedRecipients } from './relay-allowlist.js';

describe('relay.allowedRecipients', () => {
  it('matches exact addresses, @domain and *, ignoring case', () => {
    const patterns = ['qa@Example.com', '@allowed.example'];
    expect(isRecipientAllowed('QA@example.com', patterns)).toBe(true);
    expect(isRecipientAllowed('anyone@allowed.example', patterns)).toBe(true);
    expect(isRecipientAllowed('anyone@sub.allowed.example', patterns)).toBe(false);
    expect(isRecipientAllowed('anyone@allowed.example.evil', patterns)).toBe(false);
    expect(isRecipientAllowed('dev@example.com', patterns)).toBe(false);
    expect(isRecipientAllowed('whoever@anywhere.example', ['*'])).toBe(true);
    expect(isRecipientAllowed('whoever@anywhere.example', [])).toBe(false);
  });

  it('lists the refused recipients in order', () => {
    expect(refusedRecipients(['a@x.example', 'b@ok.example', 'c@y.example'], ['@ok.example'])).toEqual([
      'a@x.example',
      'c@y.example',
    ]);
  });
});
