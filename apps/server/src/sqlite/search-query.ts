/** The parsed form of the search box: an FTS5 expression, and filters on the message rows. */
export interface SearchQuery {
  /** An FTS5 MATCH expression, or null when only filters (or nothing) were given. */
  readonly match: string | null;
  /** Negated words (`-word`) when no positive ones were given: an FTS5 expression to exclude. */
  readonly exclude: string | null;
  readonly isRead: boolean | null;
  readonly hasAttachment: boolean | null;
  /** `after:` (inclusive) and `before:` (exclusive), as received_at_ms bounds. */
  readonly receivedFromMs: number | null;
  readonly receivedBeforeMs: number | null;
  /** `larger:` / `smaller:` as raw message sizes in bytes. */
  readonly largerThanBytes: number | null;
  readonly smallerThanBytes: number | null;
  /** `cc:` terms: a Cc address or name containing each. */
  readonly cc: readonly string[];
  /** `header:Name` (present), `header:Name:value` or `header:"Name: some value"` (a header of that name containing value). */
  readonly headers: readonly { readonly name: string; readonly value: string }[];
  /** `filename:` terms: an attachment whose file name contains each. */
  readonly filenames: readonly string[];
  /** The text terms as typed, in order: for stores whose full-text syntax is not FTS5 (PostgreSQL). */
  readonly terms: readonly SearchTerm[];
  /** `tag:name` (carries the tag, ASCII case ignored) and `-tag:name` (does not). */
  readonly tags: readonly { readonly name: string; readonly isNegated: boolean }[];
}

/** A free-text term: a word or "quoted phrase", matched as a prefix, in one field or any. */
export interface SearchTerm {
  readonly field: SearchField | null;
  readonly text: string;
  readonly isNegated: boolean;
}

export type SearchField = 'from' | 'to' | 'subject' | 'body';

/** The row filters of a SearchQuery as SQL over `messages m`, with their named parameters. */
export interface SqlFilters {
  readonly conditions: readonly string[];
  readonly parameters: Readonly<Record<string, string | number>>;
}

/** Thrown for a filter whose value cannot be read (`before:someday`, `larger:lots`). */
export class SearchSyntaxError extends Error {
  override readonly name = 'SearchSyntaxError';
}

const columnByField: Readonly<Record<string, string>> = {
  from: 'from_text',
  to: 'to_text',
  subject: 'subject',
  body: 'body',
};

const byteUnits: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
};

// A token is an optional `-`, an optional `field:`, then a "quoted phrase" or a run of non-space characters.
const tokenPattern = /(-)?(?:([a-z]+):)?(?:"([^"]*)"?|(\S+))/giu;
const wordCharacter = /[\p{L}\p{N}]/u;

/**
 * Turns user input into a safe FTS5 expression and row filters. User text never reaches FTS5 or
 * SQL syntax directly: every term becomes a quoted phrase (quotes doubled) or a bound parameter, so
 * `AND`, `*`, `(`, `:`, `%` typed by a user are plain text. Terms are prefix matches and all must
 * match (as in Mailpit and Gmail); `-term` excludes. Filters: from: to: subject: body: cc:
 * header: filename: tag: before: after: larger: smaller: is:read is:unread has:attachment.
 */
export function parseSearchQuery(input: string): SearchQuery {
  const clauses: string[] = [];
  const negated: string[] = [];
  const terms: SearchTerm[] = [];
  const query = {
    isRead: null as boolean | null,
    hasAttachment: null as boolean | null,
    receivedFromMs: null as number | null,
    receivedBeforeMs: null as number | null,
    largerThanBytes: null as number | null,
    smallerThanBytes: null as number | null,
    cc: [] as string[],
    headers: [] as { name: string; value: string }[],
    filenames: [] as string[],
    tags: [] as { name: string; isNegated: boolean }[],
  };
  for (const match of input.matchAll(tokenPattern)) {
    const isNegated = match[1] === '-';
    const field = match[2]?.toLowerCase();
    const value = match[3] ?? match[4] ?? '';
    if (field === 'is' && (value === 'read' || value === 'unread')) {
      query.isRead = (value === 'read') !== isNegated;
      continue;
    }
    if (field === 'has' && /^attachments?$/i.test(value)) {
      query.hasAttachment = !isNegated;
      continue;
    }
    if (field === 'after' || field === 'before') {
      const dayMs = parseDay(value);
      if (dayMs === null) throw new SearchSyntaxError(`${field}: wants a date, e.g. ${field}:2024-05-31`);
      if (field === 'after') query.receivedFromMs = dayMs;
      else query.receivedBeforeMs = dayMs;
      continue;
    }
    if (field === 'larger' || field === 'smaller') {
      const bytes = parseSize(value);
      if (bytes === null)
        throw new SearchSyntaxError(`${field}: wants a size, e.g. ${field}:100k or ${field}:2M`);
      if (field === 'larger') query.largerThanBytes = bytes;
      else query.smallerThanBytes = bytes;
      continue;
    }
    if (field === 'cc' && value !== '') {
      query.cc.push(value);
      continue;
    }
    if (field === 'tag' && value !== '') {
      query.tags.push({ name: value, isNegated });
      continue;
    }
    if (field === 'filename' && value !== '') {
      query.filenames.push(value);
      continue;
    }
    if (field === 'header' && value !== '') {
      const colon = value.indexOf(':');
      const name = (colon === -1 ? value : value.slice(0, colon)).trim();
      if (name !== '') query.headers.push({ name, value: colon === -1 ? '' : value.slice(colon + 1).trim() });
      continue;
    }
    const column = field === undefined ? undefined : columnByField[field];
    // An unknown `field:` is ordinary text (someone searching for "re:hello").
    const text = column === undefined && field !== undefined ? `${field}:${value}` : value;
    if (!wordCharacter.test(text)) continue; // FTS5 rejects a phrase without tokens
    const phrase = `"${text.replaceAll('"', '""')}"*`;
    (isNegated ? negated : clauses).push(column === undefined ? phrase : `${column} : ${phrase}`);
    terms.push({ field: column === undefined ? null : (field as SearchField), text, isNegated });
  }
  const positive = clauses.length === 0 ? null : clauses.join(' AND ');
  const excluded = negated.length === 0 ? null : negated.join(' OR ');
  // FTS5's NOT is binary (a NOT b): with positive terms it goes into the expression; alone it
  // becomes an exclusion the SQL applies (exclude).
  return {
    match: positive === null ? null : excluded === null ? positive : `(${positive}) NOT (${excluded})`,
    exclude: positive === null ? excluded : null,
    terms,
    ...query,
  };
}

/** The row filters as SQL over `messages m` (the FTS match is the caller's). */
export function sqlFiltersOf(search: SearchQuery): SqlFilters {
  const conditions: string[] = [];
  const parameters: Record<string, string | number> = {};
  if (search.isRead !== null) {
    conditions.push('m.is_read = @isRead');
    parameters.isRead = search.isRead ? 1 : 0;
  }
  if (search.hasAttachment !== null)
    conditions.push(search.hasAttachment ? 'm.attachment_count > 0' : 'm.attachment_count = 0');
  if (search.receivedFromMs !== null) {
    conditions.push('m.received_at_ms >= @receivedFromMs');
    parameters.receivedFromMs = search.receivedFromMs;
  }
  if (search.receivedBeforeMs !== null) {
    conditions.push('m.received_at_ms < @receivedBeforeMs');
    parameters.receivedBeforeMs = search.receivedBeforeMs;
  }
  if (search.largerThanBytes !== null) {
    conditions.push('m.size_bytes > @largerThanBytes');
    parameters.largerThanBytes = search.largerThanBytes;
  }
  if (search.smallerThanBytes !== null) {
    conditions.push('m.size_bytes < @smallerThanBytes');
    parameters.smallerThanBytes = search.smallerThanBytes;
  }
  if (search.exclude !== null) {
    conditions.push('m.seq NOT IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH @exclude)');
    parameters.exclude = search.exclude;
  }
  // The parse's details (detail_json) hold Cc, headers and attachments; instr() is a plain
  // substring test, so user text needs no LIKE escaping.
  for (const [index, term] of search.cc.entries()) {
    conditions.push(`EXISTS (SELECT 1 FROM json_each(m.detail_json, '$.cc') c
      WHERE instr(lower(c.value ->> 'address'), @cc${index}) OR instr(lower(c.value ->> 'name'), @cc${index}))`);
    parameters[`cc${index}`] = term.toLowerCase();
  }
  for (const [index, header] of search.headers.entries()) {
    conditions.push(`EXISTS (SELECT 1 FROM json_each(m.detail_json, '$.headers') h
      WHERE lower(h.value ->> 'name') = @headerName${index} AND instr(lower(h.value ->> 'value'), @headerValue${index}))`);
    parameters[`headerName${index}`] = header.name.toLowerCase();
    parameters[`headerValue${index}`] = header.value.toLowerCase();
  }
  for (const [index, term] of search.filenames.entries()) {
    conditions.push(`EXISTS (SELECT 1 FROM json_each(m.detail_json, '$.attachments') a
      WHERE instr(lower(a.value ->> 'filename'), @filename${index}))`);
    parameters[`filename${index}`] = term.toLowerCase();
  }
  for (const [index, tag] of search.tags.entries()) {
    // message_tags.tag is NOCASE: the comparison ignores ASCII case.
    conditions.push(
      `${tag.isNegated ? 'NOT ' : ''}EXISTS (SELECT 1 FROM message_tags t WHERE t.seq = m.seq AND t.tag = @tag${index})`,
    );
    parameters[`tag${index}`] = tag.name;
  }
  return { conditions, parameters };
}

/** `2024-05-31` (the start of that UTC day) or a full ISO 8601 time; null when unreadable. */
function parseDay(value: string): number | null {
  if (!/^\d{4}-\d{2}-\d{2}(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$/.test(value)) return null;
  const ms = Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value);
  return Number.isNaN(ms) ? null : ms;
}

/** `500`, `100k`, `2M`, `1.5mb` in bytes (binary units); null when unreadable. */
function parseSize(value: string): number | null {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(value);
  const unit = byteUnits[match?.[2]?.toLowerCase() ?? 'x'];
  if (match === null || unit === undefined) return null;
  return Math.round(Number(match[1]) * unit);
}
