import { describe, expect, it } from 'vitest';
import { createMessageId } from './message-id.js';

describe('createMessageId', () => {
  it('makes 26-character Crockford base32 ids that sort by time', () => {
    const earlier = createMessageId(Date.UTC(2024, 0, 1));
    const later = createMessageId(Date.UTC(2024, 0, 1) + 1);
    expect(earlier).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(earlier < later).toBe(true);
  });

  it('does not repeat within a millisecond, across refills of its random pool', () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => createMessageId(1_700_000_000_000)));
    expect(ids.size).toBe(10_000);
  });
});
