/**
 * The SQLite schema, versioned with `PRAGMA user_version` so later modes (the MTA queue) can add
 * migrations without touching existing data.
 *
 * Layout choices:
 * - `messages` holds only what the inbox list shows, so a page is one narrow index range scan.
 * - Raw bytes live in their own table, a BLOB exactly as received (byte-exact): a list never reads
 *   them. They are the only copy of the bodies: the message view parses them again (since
 *   version 3), which costs less than writing every body twice on ingest.
 * - `messages_fts` is a contentless FTS5 table (it keeps no copy of the text either) with
 *   `contentless_delete=1` (SQLite ≥ 3.43) so deletes and retention remove index entries by rowid.
 */
export const schemaMigrations: readonly string[] = [
  `
  CREATE TABLE messages (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    received_at_ms INTEGER NOT NULL,
    subject TEXT NOT NULL,
    from_json TEXT,
    to_json TEXT NOT NULL,
    envelope_from TEXT NOT NULL,
    envelope_to_json TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    is_read INTEGER NOT NULL DEFAULT 0,
    attachment_count INTEGER NOT NULL,
    snippet TEXT NOT NULL,
    detail_json TEXT NOT NULL
  );
  CREATE INDEX messages_received_at ON messages (received_at_ms);
  CREATE INDEX messages_unread ON messages (seq) WHERE is_read = 0;
  CREATE TABLE message_bodies (seq INTEGER PRIMARY KEY, text TEXT, html TEXT);
  CREATE TABLE message_raw (seq INTEGER PRIMARY KEY, raw BLOB NOT NULL);
  CREATE VIRTUAL TABLE messages_fts USING fts5 (
    from_text, to_text, subject, body,
    content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2'
  );
  `,
  // 2: raw bytes are committed before the 250, the parse after it. Existing rows are parsed.
  `
  ALTER TABLE messages ADD COLUMN is_parsed INTEGER NOT NULL DEFAULT 1;
  CREATE INDEX messages_unparsed ON messages (seq) WHERE is_parsed = 0;
  `,
  // 3: bodies are parsed from the raw bytes when a message is viewed, not stored a second time.
  `
  DROP TABLE message_bodies;
  `,
  // 4: a captured delivery report (DSN) names the message it reports on: links both ways.
  `
  CREATE TABLE dsn_links (report_id TEXT PRIMARY KEY, original_id TEXT NOT NULL);
  CREATE INDEX dsn_links_original ON dsn_links (original_id);
  `,
];
