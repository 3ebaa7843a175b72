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
  // 5: the MTA's delivery queue (queue/delivery-queue.ts), in the same database so that a message
  // and its deliveries commit in one transaction (companion rows). One row per (message, recipient);
  // the state columns mirror queue/delivery-state.ts. delivery_notices records each DSN sent, one
  // per (delivery, kind): its primary key makes a second report of the same thing fail.
  `
  CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY,
    message_id TEXT NOT NULL,
    sender TEXT NOT NULL,
    recipient TEXT NOT NULL,
    domain TEXT NOT NULL,
    notify TEXT,
    orcpt TEXT,
    arrived_at_ms INTEGER NOT NULL,
    status TEXT NOT NULL,
    due_at_ms INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    fencing INTEGER NOT NULL DEFAULT 0,
    lease_holder TEXT,
    lease_expires_at_ms INTEGER,
    changed_at_ms INTEGER NOT NULL,
    failure_cause TEXT,
    last_reply_json TEXT,
    last_status TEXT
  );
  CREATE INDEX deliveries_due ON deliveries (due_at_ms) WHERE status = 'queued';
  CREATE INDEX deliveries_leases ON deliveries (lease_expires_at_ms) WHERE status = 'in-flight';
  CREATE INDEX deliveries_message ON deliveries (message_id);
  CREATE INDEX deliveries_status ON deliveries (status, id);
  CREATE TABLE delivery_attempts (
    id INTEGER PRIMARY KEY,
    delivery_id INTEGER NOT NULL,
    fencing INTEGER NOT NULL,
    started_at_ms INTEGER NOT NULL,
    ended_at_ms INTEGER NOT NULL,
    mx_host TEXT,
    tls INTEGER,
    outcome TEXT NOT NULL,
    status TEXT NOT NULL,
    rule TEXT NOT NULL,
    reply_json TEXT,
    error TEXT,
    transcript TEXT NOT NULL
  );
  CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id);
  CREATE TABLE delivery_notices (
    delivery_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    report_message_id TEXT NOT NULL,
    PRIMARY KEY (delivery_id, kind)
  ) WITHOUT ROWID;
  `,
  // 6: the suppression list (suppression/suppression-list.ts): recipients whose mailbox a remote
  // refused permanently (5.1.x). Newest first for the API.
  `
  CREATE TABLE suppressions (
    address TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    message_id TEXT NOT NULL,
    delivery_id INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX suppressions_created ON suppressions (created_at_ms, address);
  `,
  // The queue API's domain filter pages along (domain, id), as the status filter does along
  // deliveries_status: one index range per page, whatever the queue's size.
  `
  CREATE INDEX IF NOT EXISTS deliveries_domain ON deliveries (domain, id);
  `,
  // Deliveries by status, kept by triggers, so the queue summary and the queue-depth metric read a
  // few rows instead of counting the whole queue (100,000 index entries per request otherwise).
  `
  CREATE TABLE IF NOT EXISTS delivery_counts (status TEXT PRIMARY KEY, count INTEGER NOT NULL) WITHOUT ROWID;
  DELETE FROM delivery_counts;
  INSERT INTO delivery_counts (status, count) SELECT status, COUNT(*) FROM deliveries GROUP BY status;
  CREATE TRIGGER IF NOT EXISTS deliveries_count_insert AFTER INSERT ON deliveries BEGIN
    INSERT INTO delivery_counts (status, count) VALUES (NEW.status, 1)
      ON CONFLICT (status) DO UPDATE SET count = count + 1;
  END;
  CREATE TRIGGER IF NOT EXISTS deliveries_count_update AFTER UPDATE OF status ON deliveries
  WHEN OLD.status IS NOT NEW.status BEGIN
    UPDATE delivery_counts SET count = count - 1 WHERE status = OLD.status;
    INSERT INTO delivery_counts (status, count) VALUES (NEW.status, 1)
      ON CONFLICT (status) DO UPDATE SET count = count + 1;
  END;
  CREATE TRIGGER IF NOT EXISTS deliveries_count_delete AFTER DELETE ON deliveries BEGIN
    UPDATE delivery_counts SET count = count - 1 WHERE status = OLD.status;
  END;
  `,
  // inbound: what the MX received (inbound/inbound-log.ts), one row per message from an mx listener,
  // committed with the message. IF NOT EXISTS: safe whatever order the integrator gives migrations.
  `
  CREATE TABLE IF NOT EXISTS inbound_messages (
    message_id TEXT PRIMARY KEY,
    received_at_ms INTEGER NOT NULL,
    client_json TEXT NOT NULL,
    sender TEXT NOT NULL,
    recipients_json TEXT NOT NULL,
    checks_json TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS inbound_messages_received ON inbound_messages (received_at_ms, message_id);
  `,
  // Greylisting (inbound/checks/greylist-store.ts): one row per (client network, sender, recipient)
  // triplet and one per client network for the auto-whitelist; pruned by last_seen_ms. IF NOT
  // EXISTS: safe whatever order the integrator gives the migrations.
  `
  CREATE TABLE IF NOT EXISTS greylist_triplets (
    client TEXT NOT NULL,
    sender TEXT NOT NULL,
    recipient TEXT NOT NULL,
    first_seen_ms INTEGER NOT NULL,
    last_seen_ms INTEGER NOT NULL,
    pass_count INTEGER NOT NULL,
    PRIMARY KEY (client, sender, recipient)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS greylist_triplets_last_seen ON greylist_triplets (last_seen_ms);
  CREATE TABLE IF NOT EXISTS greylist_clients (
    client TEXT PRIMARY KEY,
    pass_count INTEGER NOT NULL,
    last_seen_ms INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS greylist_clients_last_seen ON greylist_clients (last_seen_ms);
  `,
  // Link rows of messages deleted before deletes took their links along (the join hid them).
  `
  DELETE FROM dsn_links WHERE report_id NOT IN (SELECT id FROM messages)
    OR original_id NOT IN (SELECT id FROM messages);
  `,
  // Capture tags (capture/message-tags.ts): one row per (message, tag), by the message's seq like
  // its raw bytes and search entry. NOCASE: "Urgent" and "urgent" are one tag. IF NOT EXISTS: safe
  // whatever order the integrator gives the migrations.
  `
  CREATE TABLE IF NOT EXISTS message_tags (
    seq INTEGER NOT NULL,
    tag TEXT NOT NULL COLLATE NOCASE,
    PRIMARY KEY (seq, tag)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS message_tags_tag ON message_tags (tag, seq);
  `,
  // Webhook events not yet taken by their receiver (webhooks/webhook-outbox.ts), so a restart
  // resumes them. IF NOT EXISTS: safe whatever order the integrator gives the migrations.
  `
  CREATE TABLE IF NOT EXISTS webhook_outbox (
    key TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    body_json TEXT NOT NULL,
    tries INTEGER NOT NULL,
    created_at_ms INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS webhook_outbox_created ON webhook_outbox (created_at_ms);
  `,
];
