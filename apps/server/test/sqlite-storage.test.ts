import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MailboxQueryError } from '../src/capture/mailbox-query-error.js';
import { parseMessage } from '../src/mime/parse-message.js';
import { emptyParsedMessage } from '../src/mime/parsed-message.js';
import { deliveryRows } from '../src/queue/router.js';
import { detailOf } from '../src/sqlite/sqlite-rows.js';
import { schemaMigrations } from '../src/sqlite/sqlite-schema.js';
import { SqliteStorage } from '../src/sqlite/sqlite-storage.js';
import {
  composeRaw,
  newMessage,
  parsedPart,
  receivedPart,
  receiveWhole,
  temporaryDirectory,
} from './support/messages.js';

describe('SqliteStorage', () => {
  let directory: ReturnType<typeof temporaryDirectory>;
  let store: SqliteStorage;

  beforeEach(() => {
    directory = temporaryDirectory();
    store = new SqliteStorage({ parse: parseMessage, path: join(directory.path, 'messages.sqlite') });
  });
  afterEach(async () => {
    await store.close();
    directory.remove();
  });

  /** Reopens the store with a parse function that counts its calls. */
  async function reopenCountingParses(): Promise<{ count: number }> {
    await store.close();
    const parses = { count: 0 };
    store = new SqliteStorage({
      path: join(directory.path, 'messages.sqlite'),
      parse: (raw) => {
        parses.count += 1;
        return parseMessage(raw);
      },
    });
    return parses;
  }

  it('creates a database with 16 KB pages; one made with 4 KB pages keeps them and still works', async () => {
    const pageSizeOf = (path: string) => {
      const reader = new Database(path, { readonly: true });
      try {
        return reader.pragma('page_size', { simple: true });
      } finally {
        reader.close();
      }
    };
    expect(pageSizeOf(join(directory.path, 'messages.sqlite'))).toBe(16_384);

    const olderPath = join(directory.path, 'older.sqlite');
    const older = new Database(olderPath);
    older.pragma('journal_mode = WAL'); // written with SQLite's default page size
    older.close();
    const reopened = new SqliteStorage({ parse: parseMessage, path: olderPath });
    try {
      const message = await newMessage(composeRaw({ subject: 'On 4 KB pages' }));
      await receiveWhole(reopened.spool, receivedPart(message));
      expect((await reopened.spool.getRaw(message.id))?.byteLength).toBe(message.raw.byteLength);
    } finally {
      await reopened.close();
    }
    expect(pageSizeOf(olderPath)).toBe(4096);
  });

  it("commits companion rows in the message's transaction: both are stored, or neither", async () => {
    // The MTA queue's way in (CompanionRow): its table (migration 5), one row per recipient.
    const path = join(directory.path, 'messages.sqlite');
    const deliveriesOf = (id: string) => {
      const reader = new Database(path, { readonly: true });
      try {
        return reader
          .prepare('SELECT recipient FROM deliveries WHERE message_id = ? ORDER BY recipient')
          .pluck()
          .all(id);
      } finally {
        reader.close();
      }
    };
    const queued = await newMessage(composeRaw({ subject: 'Queued' }), {
      envelopeTo: ['b@example.net', 'a@example.net'],
    });
    const companionRows = deliveryRows({ ...queued, messageId: queued.id, postmasterDomain: 'mx.test' });
    await store.spool.receive(queued.raw, { ...queued, companionRows });
    expect(deliveriesOf(queued.id)).toEqual(['a@example.net', 'b@example.net']);
    expect(await store.spool.getRaw(queued.id)).not.toBeNull();

    const orphan = await newMessage(composeRaw({ subject: 'Orphan' }));
    await expect(
      store.spool.receive(orphan.raw, {
        ...orphan,
        companionRows: [{ table: 'deliveries', values: { message_id: orphan.id, recipient: null } }],
      }),
    ).rejects.toThrow(/NOT NULL/);
    expect(await store.spool.getRaw(orphan.id)).toBeNull(); // rolled back with its row
    await expect(
      store.spool.receive(orphan.raw, {
        ...orphan,
        companionRows: [{ table: 'deliveries; DROP TABLE messages', values: { message_id: orphan.id } }],
      }),
    ).rejects.toThrow(/Not a table or column name/);
    expect((await store.mailbox.counts()).messageCount).toBe(1);
  });

  it('returns the raw message byte for byte, including 8-bit bytes, NUL and bare CR', async () => {
    const head = new TextEncoder().encode(composeRaw({ body: 'x' }));
    const tail = Uint8Array.from([0xff, 0xfe, 0x00, 0x0d, 0x41, 0x0a, 0xe2, 0x82, 0xac, 0x0d, 0x0a]);
    const raw = new Uint8Array([...head, ...tail]);
    const message = await newMessage(raw);
    await store.mailbox.insert(message);
    const stored = await store.spool.getRaw(message.id);
    expect(stored).not.toBeNull();
    expect(Buffer.from(stored!).equals(Buffer.from(raw))).toBe(true);
  });

  it('stores parsed headers, envelope and attachment metadata', async () => {
    const raw = [
      'From: "Carol" <carol@example.org>',
      'To: dave@example.com, Eve <eve@example.com>',
      'Subject: =?UTF-8?B?w5xiZXIgYWxsZXM=?=',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'See attached.',
      '--b1',
      'Content-Type: application/pdf; name="report.pdf"',
      'Content-Disposition: attachment; filename="report.pdf"',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from('%PDF-1.4 fake').toString('base64'),
      '--b1--',
      '',
    ].join('\r\n');
    const message = await newMessage(raw, { envelopeTo: ['dave@example.com', 'hidden@example.com'] });
    await store.mailbox.insert(message);
    const stored = await store.mailbox.get(message.id);
    expect(stored?.subject).toBe('Über alles'); // RFC 2047 B-encoding decoded
    expect(stored?.from).toEqual({ name: 'Carol', address: 'carol@example.org' });
    expect(stored?.to.map((address) => address.address)).toEqual(['dave@example.com', 'eve@example.com']);
    expect(stored?.envelope.to).toEqual(['dave@example.com', 'hidden@example.com']);
    expect(stored?.attachments).toEqual([
      {
        index: 0,
        filename: 'report.pdf',
        contentType: 'application/pdf',
        disposition: 'attachment',
        contentId: null,
        sizeBytes: 13,
      },
    ]);
    expect(stored?.attachmentCount).toBe(1);
    expect(stored?.text?.trim()).toBe('See attached.');
    expect(stored?.headers.find((header) => header.name.toLowerCase() === 'content-type')?.value).toContain(
      'multipart/mixed',
    );
  });

  it('keeps RCPT parameters per recipient, and reads a message stored before them with none', async () => {
    const kept = await newMessage(composeRaw({ subject: 'Kept' }), {
      envelopeTo: ['a@example.net', 'b@example.net'],
    });
    const rcptParameters = [{ NOTIFY: 'NEVER' }, { NOTIFY: 'FAILURE', ORCPT: 'rfc822;b@example.net' }];
    await store.mailbox.insert({ ...kept, envelope: { ...kept.envelope, rcptParameters } });
    const old = await newMessage(composeRaw({ subject: 'Old' }), {
      envelopeTo: ['c@example.net', 'd@example.net'],
    });
    await receiveWhole(store.spool, receivedPart(old));
    await store.close();
    // A row as the app wrote it before RCPT parameters were kept: the envelope without the field.
    const path = join(directory.path, 'messages.sqlite');
    const writer = new Database(path);
    const changed = writer
      .prepare(
        "UPDATE messages SET detail_json = json_remove(detail_json, '$.envelope.rcptParameters') WHERE id = ?",
      )
      .run(old.id).changes;
    writer.close();
    expect(changed).toBe(1);
    store = new SqliteStorage({ parse: parseMessage, path });

    expect((await store.mailbox.get(kept.id))?.envelope.rcptParameters).toEqual(rcptParameters);
    // Read back unparsed (the spool's view) and after the restart's parse (the inbox's view).
    expect((await store.spool.getReceived(old.id))?.envelope.rcptParameters).toEqual([{}, {}]);
    expect((await store.mailbox.index(old.id))?.subject).toBe('Old'); // the startup recovery's parse
    const reopened = await store.mailbox.get(old.id);
    expect(reopened?.envelope).toEqual({
      from: 'alice@example.com',
      to: ['c@example.net', 'd@example.net'],
      mailParameters: {},
      rcptParameters: [{}, {}],
    });
  });

  it('finds messages by from, to, subject and body with prefix matching', async () => {
    const first = await newMessage(
      composeRaw({ subject: 'Invoice 2024-17', body: 'Please pay the amount.' }),
    );
    const second = await newMessage(
      composeRaw({
        from: 'Zed <zed@shop.example>',
        to: 'quinn@customers.example',
        subject: 'Welcome',
        body: 'Your account is ready.',
      }),
      { envelopeFrom: 'zed@shop.example', envelopeTo: ['quinn@customers.example'] },
    );
    await Promise.all([store.mailbox.insert(first), store.mailbox.insert(second)]);
    const ids = async (search: string) =>
      (await store.mailbox.list({ search })).messages.map((message) => message.id);
    expect(await ids('invoice')).toEqual([first.id]);
    expect(await ids('invo')).toEqual([first.id]); // prefix
    expect(await ids('subject:welcome')).toEqual([second.id]);
    expect(await ids('from:zed')).toEqual([second.id]);
    expect(await ids('from:alice')).toEqual([first.id]);
    expect(await ids('to:quinn@customers.example')).toEqual([second.id]);
    expect(await ids('body:account')).toEqual([second.id]);
    expect(await ids('subject:account')).toEqual([]);
    expect(await ids('"pay the amount"')).toEqual([first.id]);
    expect(await ids('pay welcome')).toEqual([]); // every term must match
  });

  it('treats FTS5 syntax typed by a user as plain text', async () => {
    await store.mailbox.insert(await newMessage(composeRaw({ subject: 'Q&A (draft) "quoted" NEAR AND OR' })));
    for (const search of ['"', 'AND', '(draft', 'NEAR(', '*', 'a"b', 'subject:"', ':', '-', 'OR NOT', '^x']) {
      await expect(store.mailbox.list({ search })).resolves.toBeDefined();
    }
    expect((await store.mailbox.list({ search: 'NEAR AND' })).messages).toHaveLength(1);
  });

  it('filters on read state and attachments', async () => {
    const read = await newMessage(composeRaw({ subject: 'one' }));
    const unread = await newMessage(composeRaw({ subject: 'two' }));
    await store.mailbox.insert(read);
    await store.mailbox.insert(unread);
    expect(await store.mailbox.setRead(read.id, true)).toBe(true);
    expect(await store.mailbox.setRead('missing', true)).toBeNull();
    expect((await store.mailbox.list({ search: 'is:unread' })).messages.map((message) => message.id)).toEqual(
      [unread.id],
    );
    expect((await store.mailbox.list({ search: 'is:read' })).messages.map((message) => message.id)).toEqual([
      read.id,
    ]);
    expect((await store.mailbox.list({ search: 'is:unread subject:one' })).messages).toEqual([]);
    expect((await store.mailbox.list({ search: 'has:attachment' })).messages).toEqual([]);
    expect((await store.mailbox.stats()).unreadCount).toBe(1);
    expect(await store.mailbox.markAllRead()).toBe(1);
    expect((await store.mailbox.stats()).unreadCount).toBe(0);
  });

  it('pages newest first with a keyset cursor that is not disturbed by new arrivals', async () => {
    const inserted: string[] = [];
    for (let index = 0; index < 120; index += 1) {
      const message = await newMessage(
        composeRaw({ subject: `Message ${index}`, body: index % 2 === 0 ? 'even' : 'odd' }),
      );
      inserted.push(message.id);
      await store.mailbox.insert(message);
    }
    const first = await store.mailbox.list({ limit: 50 });
    expect(first.total).toBe(120);
    expect(first.messages.map((message) => message.subject)).toEqual(
      Array.from({ length: 50 }, (_, index) => `Message ${119 - index}`),
    );
    // A message arriving between pages must not shift the next page.
    await store.mailbox.insert(await newMessage(composeRaw({ subject: 'Late arrival' })));
    const second = await store.mailbox.list({ limit: 50, cursor: first.nextCursor! });
    const third = await store.mailbox.list({ limit: 50, cursor: second.nextCursor! });
    expect(second.messages[0]?.subject).toBe('Message 69');
    expect(third.messages).toHaveLength(20);
    expect(third.nextCursor).toBeNull();
    const seen = [...first.messages, ...second.messages, ...third.messages].map((message) => message.id);
    expect(new Set(seen).size).toBe(120);
    expect([...seen].reverse()).toEqual(inserted);

    const evenPage = await store.mailbox.list({ search: 'even', limit: 25 });
    expect(evenPage.total).toBe(60);
    const evenNext = await store.mailbox.list({ search: 'even', limit: 25, cursor: evenPage.nextCursor! });
    expect(evenNext.messages[0]?.subject).toBe('Message 68');
  });

  it('rejects a forged cursor', async () => {
    await expect(store.mailbox.list({ cursor: 'not-a-cursor' })).rejects.toBeInstanceOf(MailboxQueryError);
  });

  it('caps the counted total of a search', async () => {
    const capped = new SqliteStorage({
      parse: parseMessage,
      path: join(directory.path, 'capped.sqlite'),
      searchTotalCap: 3,
    });
    for (let index = 0; index < 5; index += 1)
      await capped.mailbox.insert(await newMessage(composeRaw({ subject: 'same' })));
    const page = await capped.mailbox.list({ search: 'same' });
    expect(page).toMatchObject({ total: 3, isTotalCapped: true });
    expect(page.messages).toHaveLength(5);
    await capped.close();
  });

  it('deletes one message everywhere, including the search index', async () => {
    const message = await newMessage(composeRaw({ subject: 'Remove me' }));
    await store.mailbox.insert(message);
    expect(await store.mailbox.delete(message.id)).toBe(true);
    expect(await store.mailbox.delete(message.id)).toBe(false);
    expect(await store.mailbox.get(message.id)).toBeNull();
    expect(await store.spool.getRaw(message.id)).toBeNull();
    expect((await store.mailbox.list({ search: 'remove' })).messages).toEqual([]);
  });

  it('deletes everything', async () => {
    for (let index = 0; index < 3; index += 1)
      await store.mailbox.insert(await newMessage(composeRaw({ subject: 'bulk' })));
    expect(await store.mailbox.deleteAll()).toBe(3);
    expect((await store.mailbox.list({})).messages).toEqual([]);
    expect((await store.mailbox.list({ search: 'bulk' })).messages).toEqual([]);
    expect((await store.mailbox.stats()).messageCount).toBe(0);
  });

  it('prunes the oldest messages beyond maxMessages', async () => {
    const ids: string[] = [];
    for (let index = 0; index < 10; index += 1) {
      const message = await newMessage(composeRaw({ subject: `n${index}` }));
      ids.push(message.id);
      await store.mailbox.insert(message);
    }
    const deleted = await store.mailbox.prune({ maxMessages: 4, maxAgeMs: 0 }, Date.now());
    expect([...deleted].sort()).toEqual(ids.slice(0, 6).sort());
    expect((await store.mailbox.list({})).messages.map((message) => message.id)).toEqual(
      ids.slice(6).reverse(),
    );
    expect(await store.mailbox.prune({ maxMessages: 4, maxAgeMs: 0 }, Date.now())).toEqual([]);
  });

  it('prunes messages older than maxAge', async () => {
    const nowMs = Date.UTC(2025, 0, 10);
    const old = await newMessage(composeRaw({ subject: 'old' }), { receivedAtMs: nowMs - 8 * 86_400_000 });
    const fresh = await newMessage(composeRaw({ subject: 'fresh' }), { receivedAtMs: nowMs - 86_400_000 });
    await store.mailbox.insert(old);
    await store.mailbox.insert(fresh);
    expect(await store.mailbox.prune({ maxMessages: 0, maxAgeMs: 7 * 86_400_000 }, nowMs)).toEqual([old.id]);
    expect((await store.mailbox.list({ search: 'old' })).messages).toEqual([]);
    expect(await store.mailbox.get(fresh.id)).not.toBeNull();
  });

  it('group-commits concurrent inserts and keeps them across a reopen', async () => {
    const messages = await Promise.all(
      Array.from({ length: 40 }, (_, index) => newMessage(composeRaw({ subject: `burst ${index}` }))),
    );
    await Promise.all(messages.map((message) => store.mailbox.insert(message)));
    await store.close();
    store = new SqliteStorage({ parse: parseMessage, path: join(directory.path, 'messages.sqlite') });
    expect((await store.mailbox.stats()).messageCount).toBe(40);
    expect((await store.mailbox.list({ search: 'burst', limit: 100 })).messages).toHaveLength(40);
  });

  it('isolates a failing insert from the others in its batch', async () => {
    const good = await newMessage(composeRaw({ subject: 'good' }));
    const duplicate = { ...good, subject: 'duplicate id' };
    const results = await Promise.allSettled([store.mailbox.insert(good), store.mailbox.insert(duplicate)]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected']);
    expect((await store.mailbox.get(good.id))?.subject).toBe('good');
  });

  it('commits a received message before its parse and completes it with saveParsed', async () => {
    const full = await newMessage(composeRaw({ subject: 'Deferred parse', body: 'later words' }), {
      envelopeTo: ['x@example.net'],
    });
    const { id, receivedAtMs, envelope, raw } = full;
    const session = {
      remoteAddress: '127.0.0.1',
      remotePort: 40000,
      localAddress: '127.0.0.1',
      localPort: 2525,
      helo: 'client.test',
      protocol: 'ESMTP' as const,
      tls: null,
      authenticatedUser: null,
    };
    await receiveWhole(store.spool, { id, receivedAtMs, envelope, session, raw });
    // Durable and listed at once, but not parsed: no subject, not searchable yet.
    const pending = await store.mailbox.get(id);
    expect(pending).toMatchObject({ id, isParsed: false, subject: '', envelope, session, attachments: [] });
    expect((await store.mailbox.list({})).messages.map((message) => [message.id, message.isParsed])).toEqual([
      [id, false],
    ]);
    expect((await store.mailbox.list({ search: 'deferred' })).messages).toEqual([]);
    expect(await store.mailbox.listUnparsed(10)).toEqual([id]);
    expect(Buffer.from((await store.spool.getRaw(id))!).equals(Buffer.from(raw))).toBe(true);

    const parsed = parsedPart(full);
    const summary = await store.mailbox.saveParsed(id, parsed);
    expect(summary).toMatchObject({
      id,
      subject: 'Deferred parse',
      isParsed: true,
      envelopeTo: ['x@example.net'],
    });
    expect(summary?.snippet).toBe('later words');
    expect(await store.mailbox.get(id)).toMatchObject({
      subject: 'Deferred parse',
      isParsed: true,
      envelope,
      session,
    });
    expect((await store.mailbox.list({ search: 'words' })).messages.map((message) => message.id)).toEqual([
      id,
    ]);
    expect(
      (await store.mailbox.list({ search: 'to:x@example.net' })).messages.map((message) => message.id),
    ).toEqual([id]);
    expect(await store.mailbox.listUnparsed(10)).toEqual([]);
    expect(await store.mailbox.saveParsed(id, parsed)).toBeNull(); // parsed once only
    expect(await store.mailbox.saveParsed('missing', parsed)).toBeNull();
  });

  it('commits a received message without waiting for the parses queued before it', async () => {
    const first = await newMessage(composeRaw({ subject: 'First' }));
    const second = await newMessage(composeRaw({ subject: 'Second' }));
    await receiveWhole(store.spool, first);
    const settled: string[] = [];
    const parsed = parsedPart(first);
    const parse = store.mailbox.saveParsed(first.id, parsed).then(() => settled.push('parse of first'));
    const receive = receiveWhole(store.spool, second).then(() => settled.push('receive of second'));
    await Promise.all([parse, receive]);
    // Parses wait to be committed in bulk; a client waiting for its 250 never waits for them.
    expect(settled).toEqual(['receive of second', 'parse of first']);
  });

  it('indexes a received message from its bytes, remembered or read back after a reopen', async () => {
    const [fresh, older] = await Promise.all([
      newMessage(composeRaw({ subject: 'Fresh', body: 'freshword' })),
      newMessage(composeRaw({ subject: 'Older', body: 'olderword' })),
    ]);
    await receiveWhole(store.spool, older);
    await store.close();
    store = new SqliteStorage({ parse: parseMessage, path: join(directory.path, 'messages.sqlite') });
    await receiveWhole(store.spool, fresh);
    expect(await store.mailbox.index(fresh.id)).toMatchObject({ subject: 'Fresh', isParsed: true });
    expect(await store.mailbox.index(older.id)).toMatchObject({ subject: 'Older', isParsed: true });
    expect((await store.mailbox.list({ search: 'olderword' })).messages.map((each) => each.id)).toEqual([
      older.id,
    ]);
    expect(await store.mailbox.index(older.id)).toBeNull();
    expect(await store.mailbox.index('no-such-id')).toBeNull();
  });

  it('answers a received message between chunks of a long parse backlog, and commits all of it on close', async () => {
    const backlog = await Promise.all(
      Array.from({ length: 64 }, (_, index) => newMessage(composeRaw({ subject: `Backlog ${index}` }))),
    );
    await Promise.all(backlog.map((message) => receiveWhole(store.spool, message)));
    const settled: string[] = [];
    const parses = backlog.map((message) => {
      const { id } = message;
      const parsed = parsedPart(message);
      return store.mailbox.saveParsed(id, parsed).then(() => settled.push(id));
    });
    // Arrives as soon as the backlog's first commit is done: answered before the backlog's end.
    const late = await newMessage(composeRaw({ subject: 'Late arrival' }));
    const settledWhenLateAnswered = await parses[0]!.then(async () => {
      await receiveWhole(store.spool, late);
      return settled.length;
    });
    expect(settledWhenLateAnswered).toBeLessThan(backlog.length);
    await store.close();
    await Promise.all(parses);
    store = new SqliteStorage({ parse: parseMessage, path: join(directory.path, 'messages.sqlite') });
    expect(await store.mailbox.listUnparsed(100)).toEqual([late.id]);
  });

  it('reports the read flag set between the receive and the parse', async () => {
    const message = await newMessage(composeRaw({ subject: 'Opened early' }));
    await receiveWhole(store.spool, message);
    expect(await store.mailbox.setRead(message.id, true)).toBe(true);
    const { id } = message;
    const parsed = parsedPart(message);
    expect(await store.mailbox.saveParsed(id, parsed)).toMatchObject({
      id,
      isRead: true,
      subject: 'Opened early',
    });
  });

  it('saves no parse for a message deleted between its receive and its parse', async () => {
    const message = await newMessage(composeRaw({ subject: 'Gone', body: 'vanishing words' }));
    await receiveWhole(store.spool, message);
    expect(await store.mailbox.delete(message.id)).toBe(true);
    const { id } = message;
    const parsed = parsedPart(message);
    expect(await store.mailbox.saveParsed(id, parsed)).toBeNull();
    expect((await store.mailbox.list({ search: 'vanishing' })).total).toBe(0);
  });

  it('reads the text and HTML bodies from the raw message, the only copy kept', async () => {
    const raw = [
      'From: a@example.com',
      'To: b@example.net',
      'Subject: Two bodies',
      'MIME-Version: 1.0',
      'Content-Type: multipart/alternative; boundary="alt"',
      '',
      '--alt',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'Plain words',
      '--alt',
      'Content-Type: text/html; charset=utf-8',
      '',
      '<p>Rich <b>words</b></p>',
      '--alt--',
      '',
    ].join('\r\n');
    const message = await newMessage(raw);
    await store.mailbox.insert(message);
    expect(await store.mailbox.get(message.id)).toMatchObject({
      text: 'Plain words\n',
      html: expect.stringContaining('<p>Rich <b>words</b></p>'),
    });
    const database = new Database(join(directory.path, 'messages.sqlite'), { readonly: true });
    const tables = database.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").pluck().all();
    database.close();
    expect(tables).not.toContain('message_bodies');
  });

  it('parses a viewed message once, however often the view asks for it', async () => {
    const parses = await reopenCountingParses();
    const message = await newMessage(composeRaw({ body: 'viewed words' }));
    await store.mailbox.insert(message);
    for (let view = 0; view < 3; view += 1) {
      expect((await store.mailbox.get(message.id))?.text).toBe('viewed words\n');
    }
    expect(parses.count).toBe(1);
  });

  it('reads back what was received without parsing it', async () => {
    const parses = await reopenCountingParses();
    const message = await newMessage(composeRaw({ subject: 'Kept as received' }), {
      envelopeTo: ['x@example.net'],
    });
    await receiveWhole(store.spool, message);
    const received = await store.spool.getReceived(message.id);
    expect(received).toMatchObject({
      id: message.id,
      receivedAtMs: message.receivedAtMs,
      envelope: message.envelope,
      session: null,
    });
    expect(Buffer.from(received!.raw).equals(Buffer.from(message.raw))).toBe(true);
    expect(parses.count).toBe(0);
    expect(await store.spool.getReceived('no-such-id')).toBeNull();
  });

  it('migrates a version 2 database: bodies dropped, messages still read in full', async () => {
    await store.close();
    const path = join(directory.path, 'version2.sqlite');
    const old = new Database(path);
    old.pragma('journal_mode = WAL');
    for (const migration of schemaMigrations.slice(0, 2)) old.exec(migration);
    old.pragma('user_version = 2');
    const message = await newMessage(composeRaw({ subject: 'From before', body: 'old body' }));
    const seq = old
      .prepare(`INSERT INTO messages (id, received_at_ms, subject, to_json, envelope_from, envelope_to_json,
        size_bytes, attachment_count, snippet, detail_json) VALUES (?, ?, 'From before', '[]', '', '[]', ?, 0,
        'old body', ?)`)
      .run(
        message.id,
        message.receivedAtMs,
        message.raw.byteLength,
        JSON.stringify(detailOf(message.envelope, null, emptyParsedMessage)),
      ).lastInsertRowid;
    old.prepare('INSERT INTO message_raw (seq, raw) VALUES (?, ?)').run(seq, message.raw);
    old.prepare('INSERT INTO message_bodies (seq, text, html) VALUES (?, ?, NULL)').run(seq, 'old body');
    old.close();
    store = new SqliteStorage({ parse: parseMessage, path });
    expect(await store.mailbox.get(message.id)).toMatchObject({
      subject: 'From before',
      text: 'old body\n',
      html: null,
      related: { dsnFor: null, dsnReports: [] }, // version 4's dsn_links exists
    });
    const reopened = new Database(path, { readonly: true });
    expect(reopened.pragma('user_version', { simple: true })).toBe(schemaMigrations.length);
    reopened.close();
  });

  it('links a delivery report and its original both ways, and drops a link to a deleted message', async () => {
    const original = await newMessage(composeRaw({ subject: 'Original' }));
    await store.mailbox.insert(original);
    const report = await newMessage(composeRaw({ subject: 'Report' }));
    await store.spool.receive(report.raw, {
      ...report,
      companionRows: [{ table: 'dsn_links', values: { report_id: report.id, original_id: original.id } }],
    });
    expect((await store.mailbox.get(original.id))?.related).toEqual({
      dsnFor: null,
      dsnReports: [report.id],
    });
    expect((await store.mailbox.get(report.id))?.related).toEqual({ dsnFor: original.id, dsnReports: [] });
    const linkCount = () => {
      const reader = new Database(join(directory.path, 'messages.sqlite'), { readonly: true });
      const count = reader.prepare('SELECT count(*) FROM dsn_links').pluck().get();
      reader.close();
      return count;
    };
    expect(linkCount()).toBe(1);
    expect(await store.mailbox.delete(original.id)).toBe(true);
    expect((await store.mailbox.get(report.id))?.related).toEqual({ dsnFor: null, dsnReports: [] });
    expect(linkCount()).toBe(0); // the link row goes with the message, not only out of sight
  });

  it('keeps an unparsed message across a reopen and can delete it', async () => {
    const message = await newMessage(composeRaw({ subject: 'Crash before parse' }));
    await receiveWhole(store.spool, message);
    await store.close();
    store = new SqliteStorage({ parse: parseMessage, path: join(directory.path, 'messages.sqlite') });
    expect(await store.mailbox.listUnparsed(10)).toEqual([message.id]);
    expect(await store.mailbox.delete(message.id)).toBe(true);
    expect(await store.mailbox.listUnparsed(10)).toEqual([]);
    expect((await store.mailbox.stats()).messageCount).toBe(0);
  });
});
