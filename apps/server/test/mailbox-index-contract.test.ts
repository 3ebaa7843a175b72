import { join } from 'node:path';
import { type PostgresInstance, startPostgres } from '@smtp/test-support';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { MailboxEvent } from '../src/capture/mailbox-event.js';
import type { MailboxIndex } from '../src/capture/mailbox-index.js';
import { MailboxQueryError } from '../src/capture/mailbox-query-error.js';
import { InProcessEventBus } from '../src/events/in-process-event-bus.js';
import { parseMessage } from '../src/mime/parse-message.js';
import { PostgresCaptureStorage } from '../src/postgres/postgres-capture-storage.js';
import type { MessageRepository } from '../src/spool/message-repository.js';
import { SqliteStorage } from '../src/sqlite/sqlite-storage.js';
import { composeRaw, newMessage, receivedPart, temporaryDirectory } from './support/messages.js';

/** A capture store under test: the spool the 250 waits on and the mailbox index over it. */
interface CaptureStore {
  readonly spool: MessageRepository;
  readonly mailbox: MailboxIndex;
  close(): Promise<void>;
}

let postgres: PostgresInstance;
let databaseCount = 0;

beforeAll(async () => {
  postgres = await startPostgres();
}, 120_000);
afterAll(async () => {
  await postgres?.stop();
});

const stores = {
  sqlite: async (searchTotalCap?: number): Promise<CaptureStore> => {
    const directory = temporaryDirectory();
    const storage = new SqliteStorage({
      parse: parseMessage,
      path: join(directory.path, 'messages.sqlite'),
      ...(searchTotalCap === undefined ? {} : { searchTotalCap }),
    });
    return {
      spool: storage.spool,
      mailbox: storage.mailbox,
      async close() {
        await storage.close();
        directory.remove();
      },
    };
  },
  postgres: async (searchTotalCap?: number): Promise<CaptureStore> => {
    databaseCount += 1;
    const url = await postgres.createDatabase(`mailbox_${process.pid}_${databaseCount}`);
    return PostgresCaptureStorage.open({
      url,
      parse: parseMessage,
      localEvents: new InProcessEventBus<MailboxEvent>(),
      onError: () => undefined,
      ...(searchTotalCap === undefined ? {} : { searchTotalCap }),
    });
  },
} as const;

/** A report with a Cc, a custom header and a 6 KB PDF attachment. */
const reportRaw = [
  'From: Reports <reports@example.com>',
  'To: team@example.net',
  'Cc: Carol Finance <carol@example.org>',
  'Subject: Quarterly numbers',
  'X-Campaign: spring sale 2024',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="b"',
  '',
  '--b',
  'Content-Type: text/plain',
  '',
  'See the attached report.',
  '--b',
  'Content-Type: application/pdf',
  'Content-Disposition: attachment; filename="Q1-Report.pdf"',
  'Content-Transfer-Encoding: base64',
  '',
  Buffer.alloc(6000, 7).toString('base64'),
  '--b--',
  '',
].join('\r\n');

describe.each(Object.keys(stores) as (keyof typeof stores)[])('the capture index on %s', (kind) => {
  let store: CaptureStore;

  beforeEach(async () => {
    store = await stores[kind]();
  }, 60_000);
  afterEach(async () => {
    await store.close();
  });

  const ids = async (search: string) =>
    (await store.mailbox.list({ search })).messages.map((message) => message.id);

  it('lists a received message unparsed at once, then indexes it from its bytes exactly once', async () => {
    const message = await newMessage(composeRaw({ subject: 'Fresh from SMTP', body: 'parse me later' }));
    await store.spool.receive(message.raw, receivedPart(message));
    const before = await store.mailbox.list({});
    expect(before.messages).toMatchObject([{ id: message.id, isParsed: false, subject: '' }]);
    expect(before.total).toBe(1);
    expect(await ids('fresh')).toEqual([]); // not searchable before its parse
    expect(await store.mailbox.listUnparsed(10)).toEqual([message.id]);
    expect(await store.mailbox.setRead(message.id, true)).toBe(true);

    const summary = await store.mailbox.index(message.id);
    expect(summary).toMatchObject({
      id: message.id,
      subject: 'Fresh from SMTP',
      from: { name: 'Alice Sender', address: 'alice@example.com' },
      envelopeTo: ['bob@example.net'],
      sizeBytes: message.raw.byteLength,
      isParsed: true,
      isRead: true, // the flag set between the receive and the parse holds
      snippet: 'parse me later',
    });
    expect(await store.mailbox.index(message.id)).toBeNull();
    expect(await store.mailbox.saveParsed(message.id, message)).toBeNull();
    expect(await store.mailbox.listUnparsed(10)).toEqual([]);
    expect(await ids('fresh')).toEqual([message.id]);
    expect(await store.mailbox.index('missing')).toBeNull();
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
        body: 'Your account is ready. Café crème.',
      }),
      { envelopeFrom: 'zed@shop.example', envelopeTo: ['quinn@customers.example'] },
    );
    await store.mailbox.insert(first);
    await store.mailbox.insert(second);
    expect(await ids('invoice')).toEqual([first.id]);
    expect(await ids('invo')).toEqual([first.id]); // prefix
    expect(await ids('subject:welcome')).toEqual([second.id]);
    expect(await ids('from:zed')).toEqual([second.id]);
    expect(await ids('from:alice')).toEqual([first.id]);
    expect(await ids('to:quinn@customers.example')).toEqual([second.id]);
    expect(await ids('to:customers')).toEqual([second.id]);
    expect(await ids('from:quinn')).toEqual([]); // a To address is not a From
    expect(await ids('body:account')).toEqual([second.id]);
    expect(await ids('subject:account')).toEqual([]);
    expect(await ids('"pay the amount"')).toEqual([first.id]);
    expect(await ids('"the pay"')).toEqual([]); // a phrase keeps its order
    expect(await ids('pay welcome')).toEqual([]); // every term must match
    expect(await ids('cafe CRÈME')).toEqual([second.id]); // case and accents do not matter
    expect(await ids('2024')).toEqual([first.id]);
  });

  it('indexes a message whose headers and body hold NUL characters', async () => {
    const message = await newMessage(
      composeRaw({
        subject: 'Nul\u0000 inside',
        body: 'before\u0000after words',
        extraHeaders: ['X-Odd: a\u0000b'],
      }),
    );
    await store.spool.receive(message.raw, receivedPart(message));
    const summary = await store.mailbox.index(message.id);
    expect(summary?.isParsed).toBe(true);
    expect(summary?.subject.replaceAll('\u0000', '')).toBe('Nul inside');
    expect(await ids('inside')).toEqual([message.id]);
    expect(await ids('words')).toEqual([message.id]);
    expect(Buffer.from((await store.spool.getRaw(message.id)) ?? [])).toEqual(Buffer.from(message.raw));
  });

  it('treats search syntax typed by a user as plain text', async () => {
    const message = await newMessage(composeRaw({ subject: 'Q&A (draft) "quoted" NEAR AND OR it\'s' }));
    await store.mailbox.insert(message);
    for (const search of [
      '"',
      'AND',
      '(draft',
      'NEAR(',
      '*',
      'a"b',
      'subject:"',
      ':',
      '-',
      'OR NOT',
      '^x',
      "'",
      '!',
      '&|',
      '<->',
      ':*',
    ]) {
      await expect(store.mailbox.list({ search })).resolves.toBeDefined();
    }
    expect(await ids('NEAR AND')).toEqual([message.id]);
    expect(await ids("it's")).toEqual([message.id]);
    expect(await ids('q&a')).toEqual([message.id]);
  });

  it('searches with -negation, cc:, header:, filename:, larger:/smaller: and before:/after:', async () => {
    const report = await newMessage(reportRaw);
    const draft = await newMessage(composeRaw({ subject: 'Quarterly draft', body: 'not final' }));
    const small = await newMessage(composeRaw({ subject: 'Lunch?', body: 'tacos' }));
    for (const message of [report, draft, small]) await store.mailbox.insert(message);
    expect(await ids('quarterly -draft')).toEqual([report.id]);
    expect(await ids('-quarterly')).toEqual([small.id]);
    expect(await ids('-quarterly -lunch')).toEqual([]);
    expect(await ids('cc:carol')).toEqual([report.id]);
    expect(await ids('cc:finance')).toEqual([report.id]);
    expect(await ids('cc:team')).toEqual([]); // a To address is not a Cc
    expect(await ids('header:"x-campaign: Spring Sale"')).toEqual([report.id]);
    expect(await ids('header:X-Campaign')).toEqual([report.id]);
    expect(await ids('header:X-Campaign:winter')).toEqual([]);
    expect(await ids('filename:q1-report')).toEqual([report.id]);
    expect(await ids('filename:.pdf quarterly')).toEqual([report.id]);
    expect(await ids('has:attachment')).toEqual([report.id]);
    expect(await ids('-has:attachment')).toEqual([small.id, draft.id]);
    expect(await ids('larger:5k')).toEqual([report.id]);
    expect(await ids('smaller:5k')).toEqual([small.id, draft.id]);
    const today = new Date().toISOString().slice(0, 10);
    expect(await ids(`after:${today} lunch`)).toEqual([small.id]);
    expect(await ids(`before:${today}`)).toEqual([]);
    expect((await store.mailbox.list({ search: '-lunch' })).total).toBe(2);
    await expect(store.mailbox.list({ search: 'before:someday' })).rejects.toBeInstanceOf(MailboxQueryError);
  });

  it('keeps read flags, filters on them and counts them', async () => {
    const read = await newMessage(composeRaw({ subject: 'one' }));
    const unread = await newMessage(composeRaw({ subject: 'two' }));
    await store.mailbox.insert(read);
    await store.mailbox.insert(unread);
    expect(await store.mailbox.setRead(read.id, true)).toBe(true);
    expect(await store.mailbox.setRead('missing', true)).toBeNull();
    expect(await ids('is:unread')).toEqual([unread.id]);
    expect(await ids('is:read')).toEqual([read.id]);
    expect(await ids('is:unread subject:one')).toEqual([]);
    expect((await store.mailbox.list({ search: 'is:unread' })).total).toBe(1);
    expect((await store.mailbox.list({ search: 'is:read' })).total).toBe(1);
    expect(await store.mailbox.counts()).toEqual({ messageCount: 2, unreadCount: 1 });
    expect(await store.mailbox.markAllRead()).toBe(1);
    expect(await store.mailbox.counts()).toEqual({ messageCount: 2, unreadCount: 0 });
    expect(await store.mailbox.setRead(read.id, false)).toBe(false);
    const stats = await store.mailbox.stats();
    expect(stats).toMatchObject({
      messageCount: 2,
      unreadCount: 1,
      rawBytes: read.raw.byteLength + unread.raw.byteLength,
    });
    expect(stats.diskBytes).toBeGreaterThan(0);
  });

  it('pages newest first with a keyset cursor that new arrivals do not disturb', async () => {
    const inserted: string[] = [];
    for (let index = 0; index < 60; index += 1) {
      const message = await newMessage(
        composeRaw({ subject: `Message ${index}`, body: index % 2 === 0 ? 'even' : 'odd' }),
      );
      inserted.push(message.id);
      await store.mailbox.insert(message);
    }
    const first = await store.mailbox.list({ limit: 25 });
    expect(first.total).toBe(60);
    expect(first.messages.map((message) => message.subject)).toEqual(
      Array.from({ length: 25 }, (_, index) => `Message ${59 - index}`),
    );
    await store.mailbox.insert(await newMessage(composeRaw({ subject: 'Late arrival' })));
    const second = await store.mailbox.list({ limit: 25, cursor: first.nextCursor ?? '' });
    const third = await store.mailbox.list({ limit: 25, cursor: second.nextCursor ?? '' });
    expect(second.messages[0]?.subject).toBe('Message 34');
    expect(third.messages).toHaveLength(10);
    expect(third.nextCursor).toBeNull();
    const seen = [...first.messages, ...second.messages, ...third.messages].map((message) => message.id);
    expect([...seen].reverse()).toEqual(inserted);

    const evenPage = await store.mailbox.list({ search: 'even', limit: 10 });
    expect(evenPage).toMatchObject({ total: 30, isTotalCapped: false });
    const evenNext = await store.mailbox.list({
      search: 'even',
      limit: 10,
      cursor: evenPage.nextCursor ?? '',
    });
    expect(evenNext.messages[0]?.subject).toBe('Message 38');
    await expect(store.mailbox.list({ cursor: 'not-a-cursor' })).rejects.toBeInstanceOf(MailboxQueryError);
  });

  it('caps the counted total of a search', async () => {
    const capped = await stores[kind](3);
    try {
      for (let index = 0; index < 5; index += 1)
        await capped.mailbox.insert(await newMessage(composeRaw({ subject: 'same' })));
      const page = await capped.mailbox.list({ search: 'same' });
      expect(page).toMatchObject({ total: 3, isTotalCapped: true });
      expect(page.messages).toHaveLength(5);
    } finally {
      await capped.close();
    }
  });

  it('reads a whole message: details, bodies from the raw bytes, envelope, session', async () => {
    const message = await newMessage(reportRaw, { envelopeTo: ['team@example.net', 'boss@example.net'] });
    const session = {
      remoteAddress: '127.0.0.1',
      remotePort: 40000,
      localAddress: '127.0.0.1',
      localPort: 2525,
      helo: 'client.example',
      protocol: 'ESMTP' as const,
      tls: null,
      authenticatedUser: null,
    };
    await store.spool.receive(message.raw, { ...receivedPart(message), session });
    await store.mailbox.index(message.id);
    const read = await store.mailbox.get(message.id);
    expect(read).toMatchObject({
      id: message.id,
      subject: 'Quarterly numbers',
      cc: [{ name: 'Carol Finance', address: 'carol@example.org' }],
      text: expect.stringContaining('See the attached report.'),
      html: null,
      attachmentCount: 1,
      attachments: [{ index: 0, filename: 'Q1-Report.pdf', contentType: 'application/pdf' }],
      envelope: { from: 'alice@example.com', to: ['team@example.net', 'boss@example.net'] },
      envelopeTo: ['team@example.net', 'boss@example.net'],
      session,
      related: { dsnFor: null, dsnReports: [] },
    });
    expect(read?.headers).toContainEqual({ name: 'X-Campaign', value: 'spring sale 2024' });
    expect(Buffer.from((await store.spool.getRaw(message.id)) ?? [])).toEqual(Buffer.from(message.raw));
    expect(await store.mailbox.get('missing')).toBeNull();
  });

  it('links a delivery report and its original both ways, and drops a link to a deleted message', async () => {
    const original = await newMessage(composeRaw({ subject: 'Original' }));
    await store.mailbox.insert(original);
    const report = await newMessage(composeRaw({ subject: 'Report' }));
    await store.spool.receive(report.raw, {
      ...receivedPart(report),
      companionRows: [{ table: 'dsn_links', values: { report_id: report.id, original_id: original.id } }],
    });
    expect((await store.mailbox.get(original.id))?.related).toEqual({
      dsnFor: null,
      dsnReports: [report.id],
    });
    expect((await store.mailbox.get(report.id))?.related).toEqual({ dsnFor: original.id, dsnReports: [] });
    expect(await store.mailbox.delete(original.id)).toBe(true);
    expect((await store.mailbox.get(report.id))?.related).toEqual({ dsnFor: null, dsnReports: [] });
  });

  it('deletes one message everywhere, unparsed ones too, and everything at once', async () => {
    const message = await newMessage(composeRaw({ subject: 'Remove me' }));
    await store.mailbox.insert(message);
    expect(await store.mailbox.delete(message.id)).toBe(true);
    expect(await store.mailbox.delete(message.id)).toBe(false);
    expect(await store.mailbox.get(message.id)).toBeNull();
    expect(await store.spool.getRaw(message.id)).toBeNull();
    expect(await ids('remove')).toEqual([]);

    const unparsed = await newMessage(composeRaw({ subject: 'Never parsed' }));
    await store.spool.receive(unparsed.raw, receivedPart(unparsed));
    expect(await store.mailbox.delete(unparsed.id)).toBe(true);
    expect(await store.mailbox.index(unparsed.id)).toBeNull(); // its parse comes too late: not saved
    expect(await store.mailbox.listUnparsed(10)).toEqual([]);

    for (let index = 0; index < 3; index += 1)
      await store.mailbox.insert(await newMessage(composeRaw({ subject: 'bulk' })));
    const received = await newMessage(composeRaw({ subject: 'bulk unparsed' }));
    await store.spool.receive(received.raw, receivedPart(received));
    expect(await store.mailbox.deleteAll()).toBe(4);
    expect((await store.mailbox.list({})).messages).toEqual([]);
    expect(await ids('bulk')).toEqual([]);
    expect(await store.mailbox.counts()).toEqual({ messageCount: 0, unreadCount: 0 });
    expect(await store.spool.getRaw(received.id)).toBeNull();
  });

  const tagsOf = async (id: string) => (await store.mailbox.get(id))?.tags;
  /** Tag names in ASCII lower case: which spelling names a tag written in several is the store's choice. */
  const tagUsage = async () =>
    (await store.mailbox.listTags()).map((usage) => [
      usage.name.replace(/[A-Z]/g, (letter) => letter.toLowerCase()),
      usage.messageCount,
    ]);

  it('sets and adds tags, sorted case-insensitively, one tag whatever its ASCII case', async () => {
    const first = await newMessage(composeRaw({ subject: 'first' }));
    const second = await newMessage(composeRaw({ subject: 'second' }));
    await store.mailbox.insert(first);
    await store.mailbox.insert(second);
    expect(await store.mailbox.setTags(first.id, ['urgent', 'Beta', 'alpha'])).toEqual([
      'alpha',
      'Beta',
      'urgent',
    ]);
    // A tag it has already keeps its spelling.
    expect(await store.mailbox.addTags(first.id, ['URGENT', 'gamma'])).toEqual([
      'alpha',
      'Beta',
      'gamma',
      'urgent',
    ]);
    expect(await store.mailbox.setTags(second.id, ['Urgent', 'Élan'])).toEqual(['Urgent', 'Élan']);
    expect(await store.mailbox.setTags('missing', ['x'])).toBeNull();
    expect(await store.mailbox.addTags('missing', ['x'])).toBeNull();
    expect((await store.mailbox.list({})).messages.map((message) => message.tags)).toEqual([
      ['Urgent', 'Élan'],
      ['alpha', 'Beta', 'gamma', 'urgent'],
    ]);
    expect(await tagsOf(first.id)).toEqual(['alpha', 'Beta', 'gamma', 'urgent']);
    expect(await tagUsage()).toEqual([
      ['alpha', 1],
      ['beta', 1],
      ['gamma', 1],
      ['urgent', 2],
      ['Élan', 1],
    ]);
    // Only ASCII case is folded: É and é stay two tags.
    expect(await store.mailbox.addTags(second.id, ['élan'])).toEqual(['Urgent', 'Élan', 'élan']);
    expect(await store.mailbox.setTags(first.id, [])).toEqual([]);
    expect(await tagUsage()).toEqual([
      ['urgent', 1],
      ['Élan', 1],
      ['élan', 1],
    ]);

    // Tagged at receive, before its parse: the summary of the parse carries the tags.
    const received = await newMessage(composeRaw({ subject: 'tagged early' }));
    await store.spool.receive(received.raw, receivedPart(received));
    expect(await store.mailbox.addTags(received.id, ['inbound'])).toEqual(['inbound']);
    expect((await store.mailbox.index(received.id))?.tags).toEqual(['inbound']);
  });

  it('renames a tag on every message, merging into an existing one, and deletes a tag', async () => {
    const [first, second, third] = await Promise.all(
      ['one', 'two', 'three'].map((subject) => newMessage(composeRaw({ subject }))),
    );
    if (first === undefined || second === undefined || third === undefined) throw new Error('no messages');
    for (const message of [first, second, third]) await store.mailbox.insert(message);
    await store.mailbox.setTags(first.id, ['draft', 'Review']);
    await store.mailbox.setTags(second.id, ['review']);
    await store.mailbox.setTags(third.id, ['draft', 'other']);
    expect(await store.mailbox.renameTag('DRAFT', 'review')).toBe(2);
    expect(await tagsOf(first.id)).toEqual(['Review']); // had both: keeps its own
    expect(await tagsOf(second.id)).toEqual(['review']);
    expect(await tagsOf(third.id)).toEqual(['other', 'review']);
    expect(await tagUsage()).toEqual([
      ['other', 1],
      ['review', 3],
    ]);
    // Only the case changes: every message gets the new spelling.
    expect(await store.mailbox.renameTag('review', 'Checked')).toBe(3);
    expect(await store.mailbox.renameTag('checked', 'CHECKED')).toBe(3);
    expect(await store.mailbox.listTags()).toEqual([
      { name: 'CHECKED', messageCount: 3 },
      { name: 'other', messageCount: 1 },
    ]);
    expect(await store.mailbox.renameTag('absent', 'anything')).toBe(0);
    expect(await store.mailbox.deleteTag('Checked')).toBe(3);
    expect(await store.mailbox.deleteTag('checked')).toBe(0);
    expect(await store.mailbox.listTags()).toEqual([{ name: 'other', messageCount: 1 }]);
    expect(await tagsOf(first.id)).toEqual([]);
    expect(await tagsOf(third.id)).toEqual(['other']);
  });

  it('searches by tag:, tag:"two words" and -tag:, ignoring ASCII case', async () => {
    const [urgent, later, plain] = await Promise.all(
      ['Invoice overdue', 'Invoice later', 'Lunch'].map((subject) => newMessage(composeRaw({ subject }))),
    );
    if (urgent === undefined || later === undefined || plain === undefined) throw new Error('no messages');
    for (const message of [urgent, later, plain]) await store.mailbox.insert(message);
    await store.mailbox.setTags(urgent.id, ['Urgent', 'needs review']);
    await store.mailbox.setTags(later.id, ['later']);
    expect(await ids('tag:urgent')).toEqual([urgent.id]);
    expect(await ids('tag:URGENT invoice')).toEqual([urgent.id]);
    expect(await ids('tag:"Needs Review"')).toEqual([urgent.id]);
    expect(await ids('tag:urg')).toEqual([]); // a tag matches whole, not as a prefix
    expect(await ids('tag:needs')).toEqual([]);
    expect(await ids('-tag:urgent')).toEqual([plain.id, later.id]);
    expect(await ids('invoice -tag:later')).toEqual([urgent.id]);
    expect(await ids('tag:urgent tag:later')).toEqual([]);
    expect((await store.mailbox.list({ search: '-tag:Urgent' })).total).toBe(2);
  });

  it('removes the tags of deleted messages: one, all and by retention', async () => {
    const messages = await Promise.all(
      [0, 1, 2].map((index) => newMessage(composeRaw({ subject: `tagged ${index}` }))),
    );
    for (const message of messages) {
      await store.mailbox.insert(message);
      await store.mailbox.setTags(message.id, ['keep', `only-${message.id}`]);
    }
    expect(await store.mailbox.delete(messages[0]?.id ?? '')).toBe(true);
    expect((await store.mailbox.listTags()).find((usage) => usage.name === 'keep')?.messageCount).toBe(2);
    expect(await store.mailbox.listTags()).toHaveLength(3);
    expect(await store.mailbox.prune({ maxMessages: 1, maxAgeMs: 0 }, Date.now())).toEqual([messages[1]?.id]);
    expect(await store.mailbox.listTags()).toEqual([
      { name: 'keep', messageCount: 1 },
      { name: `only-${messages[2]?.id}`, messageCount: 1 },
    ]);
    expect(await store.mailbox.deleteAll()).toBe(1);
    expect(await store.mailbox.listTags()).toEqual([]);
  });

  it('prunes the oldest messages beyond maxMessages, and those older than maxAge', async () => {
    const inserted: string[] = [];
    for (let index = 0; index < 10; index += 1) {
      const message = await newMessage(composeRaw({ subject: `n${index}` }));
      inserted.push(message.id);
      await store.mailbox.insert(message);
    }
    const deleted = await store.mailbox.prune({ maxMessages: 4, maxAgeMs: 0 }, Date.now());
    expect([...deleted].sort()).toEqual(inserted.slice(0, 6).sort());
    expect((await store.mailbox.list({})).messages.map((message) => message.id)).toEqual(
      inserted.slice(6).reverse(),
    );
    expect(await store.mailbox.prune({ maxMessages: 4, maxAgeMs: 0 }, Date.now())).toEqual([]);

    const nowMs = Date.now() + 30 * 86_400_000;
    const fresh = await newMessage(composeRaw({ subject: 'fresh' }), { receivedAtMs: nowMs - 86_400_000 });
    await store.mailbox.insert(fresh);
    const aged = await store.mailbox.prune({ maxMessages: 0, maxAgeMs: 7 * 86_400_000 }, nowMs);
    expect([...aged].sort()).toEqual(inserted.slice(6).sort());
    expect((await store.mailbox.list({})).messages.map((message) => message.id)).toEqual([fresh.id]);
    expect(await store.spool.getRaw(inserted[9] ?? '')).toBeNull();
  });
});
