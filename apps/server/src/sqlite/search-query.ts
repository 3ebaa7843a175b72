/** The parsed form of the search box: an FTS5 expression plus flag filters. */
export interface SearchQuery {
  /** An FTS5 MATCH expression, or null when only flags (or nothing) were given. */
  readonly match: string | null;
  readonly isRead: boolean | null;
  readonly hasAttachment: boolean | null;
}

const columnByField: Readonly<Record<string, string>> = {
  from: 'from_text',
  to: 'to_text',
  subject: 'subject',
  body: 'body',
};

// A token is a "quoted phrase" or a run of non-space characters, optionally prefixed by `field:`.
const tokenPattern = /(?:([a-z]+):)?(?:"([^"]*)"?|(\S+))/giu;
const wordCharacter = /[\p{L}\p{N}]/u;

/**
 * Turns user input into a safe FTS5 expression. User text never reaches FTS5 syntax directly: every
 * term becomes a quoted phrase (quotes doubled), so `AND`, `*`, `(`, `:` typed by a user are plain
 * text. Terms are prefix matches and all must match (as in Mailpit and Gmail).
 */
export function parseSearchQuery(input: string): SearchQuery {
  const clauses: string[] = [];
  let isRead: boolean | null = null;
  let hasAttachment: boolean | null = null;
  for (const match of input.matchAll(tokenPattern)) {
    const field = match[1]?.toLowerCase();
    const value = match[2] ?? match[3] ?? '';
    if (field === 'is' && (value === 'read' || value === 'unread')) {
      isRead = value === 'read';
      continue;
    }
    if (field === 'has' && /^attachments?$/i.test(value)) {
      hasAttachment = true;
      continue;
    }
    const column = field === undefined ? undefined : columnByField[field];
    // An unknown `field:` is ordinary text (someone searching for "re:hello").
    const text = column === undefined && field !== undefined ? `${field}:${value}` : value;
    if (!wordCharacter.test(text)) continue; // FTS5 rejects a phrase without tokens
    const phrase = `"${text.replaceAll('"', '""')}"*`;
    clauses.push(column === undefined ? phrase : `${column} : ${phrase}`);
  }
  return { match: clauses.length === 0 ? null : clauses.join(' AND '), isRead, hasAttachment };
}
