import { describe, expect, it } from 'vitest';
import { parseSearchQuery } from './search-query.js';

describe('parseSearchQuery', () => {
  it('quotes every term as a prefix phrase, all required', () => {
    expect(parseSearchQuery('invoice march')).toEqual({
      match: '"invoice"* AND "march"*',
      isRead: null,
      hasAttachment: null,
    });
  });

  it('maps field filters to FTS columns and keeps quoted phrases together', () => {
    expect(parseSearchQuery('from:alice subject:"weekly report" to:bob@example.com body:x').match).toBe(
      'from_text : "alice"* AND subject : "weekly report"* AND to_text : "bob@example.com"* AND body : "x"*',
    );
  });

  it('reads flags', () => {
    expect(parseSearchQuery('is:unread has:attachment')).toEqual({
      match: null,
      isRead: false,
      hasAttachment: true,
    });
    expect(parseSearchQuery('is:read').isRead).toBe(true);
  });

  it('never lets FTS5 syntax through', () => {
    expect(parseSearchQuery('a"b OR NEAR(x) *').match).toBe('"a""b"* AND "OR"* AND "NEAR(x)"*');
    expect(parseSearchQuery('re:hello').match).toBe('"re:hello"*'); // unknown field: plain text
    expect(parseSearchQuery('" * :').match).toBeNull(); // nothing searchable
  });
});
