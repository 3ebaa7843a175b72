import { describe, expect, it } from 'vitest';
import { parseSearchQuery, SearchSyntaxError, sqlFiltersOf } from './search-query.js';

describe('parseSearchQuery', () => {
  it('quotes every term as a prefix phrase, all required', () => {
    expect(parseSearchQuery('invoice march')).toMatchObject({
      match: '"invoice"* AND "march"*',
      exclude: null,
      isRead: null,
      hasAttachment: null,
    });
  });

  it('maps field filters to FTS columns and keeps quoted phrases together', () => {
    expect(parseSearchQuery('from:alice subject:"weekly report" to:bob@example.com body:x').match).toBe(
      'from_text : "alice"* AND subject : "weekly report"* AND to_text : "bob@example.com"* AND body : "x"*',
    );
  });

  it('reads flags, negated flags too', () => {
    expect(parseSearchQuery('is:unread has:attachment')).toMatchObject({
      match: null,
      isRead: false,
      hasAttachment: true,
    });
    expect(parseSearchQuery('is:read').isRead).toBe(true);
    expect(parseSearchQuery('-is:read').isRead).toBe(false);
    expect(parseSearchQuery('-has:attachment').hasAttachment).toBe(false);
  });

  it('never lets FTS5 syntax through', () => {
    expect(parseSearchQuery('a"b OR NEAR(x) *').match).toBe('"a""b"* AND "OR"* AND "NEAR(x)"*');
    expect(parseSearchQuery('re:hello').match).toBe('"re:hello"*'); // unknown field: plain text
    expect(parseSearchQuery('" * :').match).toBeNull(); // nothing searchable
  });

  it('negates words with -: inside the FTS expression with positive words, as an exclusion alone', () => {
    expect(parseSearchQuery('invoice -draft -from:bot')).toMatchObject({
      match: '("invoice"*) NOT ("draft"* OR from_text : "bot"*)',
      exclude: null,
    });
    expect(parseSearchQuery('-newsletter')).toMatchObject({ match: null, exclude: '"newsletter"*' });
    // A hyphen inside a word is not a negation.
    expect(parseSearchQuery('e-mail').match).toBe('"e-mail"*');
  });

  it('reads before:/after: as UTC days or ISO times, larger:/smaller: as sizes', () => {
    expect(parseSearchQuery('after:2024-05-01 before:2024-06-01')).toMatchObject({
      receivedFromMs: Date.UTC(2024, 4, 1),
      receivedBeforeMs: Date.UTC(2024, 5, 1),
      match: null,
    });
    expect(parseSearchQuery('after:2024-05-01T12:30:00Z').receivedFromMs).toBe(Date.UTC(2024, 4, 1, 12, 30));
    expect(parseSearchQuery('larger:100k smaller:2M')).toMatchObject({
      largerThanBytes: 102_400,
      smallerThanBytes: 2 * 1024 * 1024,
    });
    expect(parseSearchQuery('larger:500').largerThanBytes).toBe(500);
    expect(() => parseSearchQuery('before:yesterday')).toThrow(SearchSyntaxError);
    expect(() => parseSearchQuery('larger:lots')).toThrow(/larger: wants a size/);
  });

  it('collects cc:, header: and filename: terms as row filters, not FTS text', () => {
    const search = parseSearchQuery(
      'cc:carol header:"X-Campaign: spring sale" header:List-Id filename:report.pdf',
    );
    expect(search.match).toBeNull();
    expect(search.cc).toEqual(['carol']);
    expect(search.headers).toEqual([
      { name: 'X-Campaign', value: 'spring sale' },
      { name: 'List-Id', value: '' },
    ]);
    expect(search.filenames).toEqual(['report.pdf']);
  });
});

describe('sqlFiltersOf', () => {
  it('binds every user value as a parameter, lower-cased for substring tests', () => {
    const filters = sqlFiltersOf(
      parseSearchQuery("cc:O'Brien% filename:A_B header:X-Tag:Ünï -spam larger:1k"),
    );
    expect(filters.parameters).toMatchObject({
      cc0: "o'brien%",
      filename0: 'a_b',
      headerName0: 'x-tag',
      headerValue0: 'ünï',
      exclude: '"spam"*',
      largerThanBytes: 1024,
    });
    for (const condition of filters.conditions) {
      expect(condition).not.toMatch(/O'Brien|a_b|ünï|spam/i);
    }
  });

  it('has no conditions for a plain word search', () => {
    expect(sqlFiltersOf(parseSearchQuery('hello'))).toEqual({ conditions: [], parameters: {} });
  });
});
