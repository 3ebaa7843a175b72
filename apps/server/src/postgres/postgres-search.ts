import type { SearchField, SearchQuery, SearchTerm } from '../sqlite/search-query.js';

/**
 * Full-text search of the capture index on PostgreSQL: the document side (a tsvector per message,
 * built here) and the query side (a tsquery and row filters from the parsed search box). Both split
 * text into words the same way SQLite's FTS5 does with `unicode61 remove_diacritics 2`: lower case,
 * accents removed, anything that is not a letter or digit separates words. So `alice@example.com`
 * is three words, `é` finds `e`, and a search means the same on both stores.
 *
 * Each field is indexed under its own weight label, and a `from:` term is restricted to that label
 * (`'alice':*A`): one GIN index over one column serves free text and field terms alike. The
 * tsvector and tsquery are built as literals from words that hold only letters and digits, so user
 * text never meets tsquery syntax (`&`, `!`, `:`, `'` typed in the box are separators).
 */

/** The tsvector weight label each field is indexed under. */
const weightByField = { from: 'A', to: 'B', subject: 'C', body: 'D' } as const satisfies Record<
  SearchField,
  string
>;

/** PostgreSQL keeps positions up to 16383 and at most 256 per lexeme; a lexeme has at most 2047 bytes. */
const maxPosition = 16_383;
const maxPositionsPerLexeme = 256;
const maxLexemeBytes = 2046;
/** A tsvector may not exceed 1 MB: the text indexed of one message stops at this many lexeme bytes. */
const maxIndexedLexemeBytes = 512 * 1024;

/** The words of a text as the search index holds them. */
export function searchWords(text: string): string[] {
  return text
    .toLowerCase()
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word !== '' && Buffer.byteLength(word) <= maxLexemeBytes);
}

/** The searchable text of one message, by field. */
export type SearchDocument = Readonly<Record<SearchField, string>>;

/**
 * The tsvector literal of a message (cast with `::tsvector`): each word with its positions and its
 * field's weight. A gap of one position between fields keeps a phrase from matching across two.
 */
export function searchVectorOf(document: SearchDocument): string {
  const positionsByLexeme = new Map<string, string[]>();
  let position = 0;
  let lexemeBytes = 0;
  for (const field of ['from', 'to', 'subject', 'body'] as const) {
    const weight = weightByField[field];
    for (const word of searchWords(document[field])) {
      position = Math.min(position + 1, maxPosition);
      let positions = positionsByLexeme.get(word);
      if (positions === undefined) {
        lexemeBytes += Buffer.byteLength(word);
        if (lexemeBytes > maxIndexedLexemeBytes) break;
        positions = [];
        positionsByLexeme.set(word, positions);
      }
      const entry = `${position}${weight}`;
      if (positions.length < maxPositionsPerLexeme && positions.at(-1) !== entry) positions.push(entry);
    }
    position = Math.min(position + 1, maxPosition);
  }
  return [...positionsByLexeme].map(([word, positions]) => `'${word}':${positions.join(',')}`).join(' ');
}

/** The full-text part of a search: what rows must match, or (without positive terms) must not. */
export interface TextQuery {
  /** A tsquery literal every result matches, or null. */
  readonly match: string | null;
  /** Without positive terms: a tsquery literal results must not match (`-word` alone), or null. */
  readonly exclude: string | null;
}

/**
 * The tsquery of the search box's text terms: every term must match (`&`), `-term` must not. A term
 * is a phrase of its words (`<->`), the last one a prefix (`:*`), as FTS5's `"phrase"*`.
 */
export function textQueryOf(search: Pick<SearchQuery, 'terms'>): TextQuery {
  const positive: string[] = [];
  const negative: string[] = [];
  for (const term of search.terms) {
    const phrase = phraseOf(term);
    if (phrase !== null) (term.isNegated ? negative : positive).push(phrase);
  }
  if (positive.length === 0)
    return { match: null, exclude: negative.length === 0 ? null : negative.join(' | ') };
  return { match: [...positive, ...negative.map((phrase) => `!${phrase}`)].join(' & '), exclude: null };
}

function phraseOf(term: SearchTerm): string | null {
  const words = searchWords(term.text);
  if (words.length === 0) return null;
  const weight = term.field === null ? '' : weightByField[term.field];
  const lexemes = words.map((word, index) => {
    if (index === words.length - 1) return `'${word}':*${weight}`;
    return weight === '' ? `'${word}'` : `'${word}':${weight}`;
  });
  return `(${lexemes.join(' <-> ')})`;
}

/** Numbered query parameters ($1, $2, …) gathered while SQL is built. */
export class SqlParameters {
  readonly values: unknown[];

  /** Starts after a copy of `values` (another query over the same filters). */
  constructor(values: readonly unknown[] = []) {
    this.values = [...values];
  }

  /** Adds a value; returns its placeholder. */
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/**
 * The row filters of a search (everything but its text) as SQL over `capture_messages c`. The
 * parse's details (c.detail, jsonb) hold Cc, headers and attachments; tags are rows of
 * capture_message_tags. strpos() is a plain substring test, so user text needs no LIKE escaping.
 */
export function rowFiltersOf(search: SearchQuery, parameters: SqlParameters): string[] {
  const conditions: string[] = [];
  if (search.isRead !== null) conditions.push(`c.is_read = ${parameters.add(search.isRead)}`);
  if (search.hasAttachment !== null)
    conditions.push(search.hasAttachment ? 'c.attachment_count > 0' : 'c.attachment_count = 0');
  if (search.receivedFromMs !== null)
    conditions.push(`c.received_at_ms >= ${parameters.add(search.receivedFromMs)}`);
  if (search.receivedBeforeMs !== null)
    conditions.push(`c.received_at_ms < ${parameters.add(search.receivedBeforeMs)}`);
  if (search.largerThanBytes !== null)
    conditions.push(`c.size_bytes > ${parameters.add(search.largerThanBytes)}`);
  if (search.smallerThanBytes !== null)
    conditions.push(`c.size_bytes < ${parameters.add(search.smallerThanBytes)}`);
  for (const term of search.cc) {
    const value = parameters.add(term.toLowerCase());
    conditions.push(`EXISTS (SELECT 1 FROM jsonb_array_elements(c.detail -> 'cc') cc
      WHERE strpos(lower(cc ->> 'address'), ${value}) > 0 OR strpos(lower(cc ->> 'name'), ${value}) > 0)`);
  }
  for (const header of search.headers) {
    const name = parameters.add(header.name.toLowerCase());
    const value = parameters.add(header.value.toLowerCase());
    conditions.push(`EXISTS (SELECT 1 FROM jsonb_array_elements(c.detail -> 'headers') h
      WHERE lower(h ->> 'name') = ${name} AND strpos(lower(h ->> 'value'), ${value}) > 0)`);
  }
  for (const term of search.filenames) {
    const value = parameters.add(term.toLowerCase());
    conditions.push(`EXISTS (SELECT 1 FROM jsonb_array_elements(c.detail -> 'attachments') a
      WHERE strpos(lower(a ->> 'filename'), ${value}) > 0)`);
  }
  for (const tag of search.tags) {
    // capture_tag_key() folds ASCII case, as the tag rows' key (postgres-schema.ts).
    conditions.push(`${tag.isNegated ? 'NOT ' : ''}EXISTS (SELECT 1 FROM capture_message_tags t
      WHERE t.seq = c.seq AND t.tag_key = capture_tag_key(${parameters.add(tag.name)}))`);
  }
  return conditions;
}
