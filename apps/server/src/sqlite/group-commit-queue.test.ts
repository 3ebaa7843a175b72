import { afterEach, describe, expect, it } from 'vitest';
import { parseMessage } from '../mime/parse-message.js';
import { emptyParsedMessage } from '../mime/parsed-message.js';
import { createMessageId } from '../pipeline/message-id.js';
import { SqliteDatabase } from './sqlite-database.js';
import { GroupCommitQueue, type ParseCommitPolicy } from './sqlite-writes.js';

/** A window no test waits out: a parse that commits did not wait for it. */
const longWindowMs = 60_000;

const turns = async (count: number) => {
  for (let index = 0; index < count; index += 1) await new Promise((resolve) => setImmediate(resolve));
};

describe('GroupCommitQueue parse commits', () => {
  const databases: SqliteDatabase[] = [];
  afterEach(async () => {
    for (const database of databases.splice(0)) await database.close();
  });

  /** A queue over a fresh in-memory schema, with one received message to parse. */
  async function setUp(parseCommit: ParseCommitPolicy) {
    const database = new SqliteDatabase({ path: ':memory:', parse: parseMessage });
    databases.push(database);
    const queue = new GroupCommitQueue(database.connection, {
      groupCommitWindowMs: 0,
      parseCommit,
      parseCommitWindowMs: longWindowMs,
    });
    const receive = async (subject: string) => {
      const receivedAtMs = Date.now();
      const id = createMessageId(receivedAtMs);
      await queue.enqueue({
        kind: 'insertReceived',
        companionRows: [],
        message: {
          id,
          receivedAtMs,
          envelope: {
            from: 'a@example.com',
            to: ['b@example.net'],
            mailParameters: {},
            rcptParameters: [{}],
          },
          session: null,
          raw: new TextEncoder().encode(`Subject: ${subject}\r\n\r\nbody\r\n`),
        },
      });
      return id;
    };
    /** Saves a parse and reports whether its commit has happened (its promise settled). */
    const save = (id: string, subject: string) => {
      const state = { isCommitted: false };
      const done = queue
        .enqueue({ kind: 'saveParsed', id, parsed: { ...emptyParsedMessage, subject } })
        .then(() => {
          state.isCommitted = true;
        });
      return { state, done };
    };
    const subjects = () =>
      database.connection
        .prepare('SELECT subject FROM messages WHERE is_parsed = 1 ORDER BY seq')
        .pluck()
        .all();
    return { queue, receive, save, subjects };
  }

  it('adaptive: commits a parse on the next turn when no other parse is underway', async () => {
    const { receive, save, subjects } = await setUp('adaptive');
    const id = await receive('idle');
    const saved = save(id, 'idle');
    await turns(3);
    expect(saved.state.isCommitted).toBe(true);
    expect(subjects()).toEqual(['idle']);
  });

  it('adaptive: under load a parse waits for those underway, and commits with the last of them', async () => {
    const { queue, receive, save, subjects } = await setUp('adaptive');
    const [first, second] = [await receive('first'), await receive('second')];
    queue.parseStarted(); // the first's parse
    queue.parseStarted(); // the second's parse
    const firstSaved = save(first, 'first');
    queue.parseSettled();
    await turns(5);
    expect(firstSaved.state.isCommitted).toBe(false); // the second is still being parsed
    const secondSaved = save(second, 'second');
    queue.parseSettled();
    await turns(3);
    expect([firstSaved.state.isCommitted, secondSaved.state.isCommitted]).toEqual([true, true]);
    expect(subjects()).toEqual(['first', 'second']);
  });

  it('adaptive: a burst (more than two parses at once, from concurrent clients) gathers for the window', async () => {
    const { queue, receive, save, subjects } = await setUp('adaptive');
    const ids = [await receive('one'), await receive('two'), await receive('three')];
    for (const _ of ids) queue.parseStarted();
    const saved = ids.map((id, index) => {
      const each = save(id, ['one', 'two', 'three'][index] as string);
      queue.parseSettled();
      return each;
    });
    await turns(5);
    expect(saved.map((each) => each.state.isCommitted)).toEqual([false, false, false]);
    queue.flush();
    await Promise.all(saved.map((each) => each.done));
    expect(subjects()).toEqual(['one', 'two', 'three']);
  });

  it('adaptive: a failed parse does not hold the others back', async () => {
    const { queue, receive, save } = await setUp('adaptive');
    const id = await receive('survivor');
    queue.parseStarted(); // a parse that will fail
    const saved = save(id, 'survivor');
    await turns(5);
    expect(saved.state.isCommitted).toBe(false);
    queue.parseSettled(); // it failed: no save follows
    await turns(3);
    expect(saved.state.isCommitted).toBe(true);
  });

  it('windowed: parses always gather for the window (flush() commits them early)', async () => {
    const { queue, receive, save, subjects } = await setUp('windowed');
    const id = await receive('windowed');
    const saved = save(id, 'windowed');
    await turns(5);
    expect(saved.state.isCommitted).toBe(false);
    queue.flush();
    await saved.done;
    expect(subjects()).toEqual(['windowed']);
  });
});
