import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ParseWorkerRequest } from '../src/mime/parse-client.js';
import { parseMessage } from '../src/mime/parse-message.js';
import { deliveryRows } from '../src/queue/router.js';
import { SqliteStorage } from '../src/sqlite/sqlite-storage.js';
import {
  composeRaw,
  newMessage,
  parsedPart,
  receivedPart,
  receiveWhole,
  temporaryDirectory,
} from './support/messages.js';

const appRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/** A new channel to a parse worker, attached the way ParsePool.connect() does it. */
function attachedPort(worker: Worker): MessagePort {
  const { port1, port2 } = new MessageChannel();
  const attach: ParseWorkerRequest = { type: 'attach', port: port1 };
  worker.postMessage(attach, [port1]);
  return port2;
}

/**
 * The store as the built app runs it: ingest writes on the writer thread (its own connection), the
 * rest on the main thread. The thread script is bundled here the way tsup bundles
 * dist/sqlite-write-worker.js, into a private folder: other tests may be rebuilding dist/ meanwhile.
 */
describe('SqliteStorage with the writer thread', () => {
  const directory = temporaryDirectory();
  // Inside the app so the bundle finds better-sqlite3 in node_modules, as dist/ does.
  const scriptDirectory = mkdtempSync(join(appRoot, 'node_modules', '.writer-thread-test-'));
  const writerScript = join(scriptDirectory, 'sqlite-write-worker.js');
  const parseScript = join(scriptDirectory, 'parse-worker.js');
  const checkpointScript = join(scriptDirectory, 'sqlite-checkpoint-worker.js');

  beforeAll(async () => {
    for (const [entry, outfile] of [
      ['src/sqlite/sqlite-write-worker.ts', writerScript],
      ['src/mime/parse-worker.ts', parseScript],
      ['src/sqlite/sqlite-checkpoint-worker.ts', checkpointScript],
    ] as const) {
      await build({
        entryPoints: [join(appRoot, entry)],
        outfile,
        bundle: true,
        platform: 'node',
        format: 'esm',
        packages: 'external',
        logLevel: 'silent',
      });
    }
  }, 60_000);
  afterAll(() => {
    directory.remove();
    rmSync(scriptDirectory, { recursive: true, force: true });
  });

  it('commits concurrent receives and parses, answers each caller, and keeps them after a reopen', async () => {
    const path = join(directory.path, 'concurrent.sqlite');
    const failures: Error[] = [];
    const store = new SqliteStorage({
      parse: parseMessage,
      path,
      writerScript,
      onWriterFailure: (error) => failures.push(error),
    });
    const messages = await Promise.all(
      Array.from({ length: 40 }, (_, index) =>
        newMessage(composeRaw({ subject: `Threaded ${index}`, body: `writer body${index}` })),
      ),
    );
    const [firstHalf, secondHalf] = [messages.slice(0, 20), messages.slice(20)];
    await Promise.all(firstHalf.map((message) => receiveWhole(store.spool, receivedPart(message))));

    // Parses of the first half race receives of the second: they share the writer's commits.
    const [summaries] = await Promise.all([
      Promise.all(firstHalf.map((message) => store.mailbox.saveParsed(message.id, parsedPart(message)))),
      Promise.all(secondHalf.map((message) => receiveWhole(store.spool, receivedPart(message)))),
    ]);
    for (const [index, summary] of summaries.entries()) {
      expect(summary).toMatchObject({
        id: firstHalf[index]!.id,
        subject: `Threaded ${index}`,
        from: { name: 'Alice Sender', address: 'alice@example.com' },
        envelopeTo: ['bob@example.net'],
        isParsed: true,
        isRead: false,
      });
    }
    // A second parse of the same message finds nothing left to parse; an unknown id neither.
    expect(await store.mailbox.saveParsed(firstHalf[0]!.id, parsedPart(firstHalf[0]!))).toBeNull();
    expect(await store.mailbox.saveParsed('no-such-id', parsedPart(firstHalf[0]!))).toBeNull();

    // Written by the writer thread, visible to the main thread's reads as soon as they resolve.
    expect((await store.mailbox.counts()).messageCount).toBe(40);
    const unparsed = await store.mailbox.listUnparsed(100);
    expect([...unparsed].sort()).toEqual(secondHalf.map((message) => message.id).sort());
    await store.close();
    expect(failures).toEqual([]);

    const reopened = new SqliteStorage({ parse: parseMessage, path, writerScript: null });
    try {
      for (const message of messages) {
        const raw = await reopened.spool.getRaw(message.id);
        expect(Buffer.from(raw!).equals(Buffer.from(message.raw))).toBe(true);
      }
      expect((await reopened.mailbox.get(firstHalf[3]!.id))?.text).toContain('writer body3');
      const page = await reopened.mailbox.list({ search: 'body7' });
      expect(page.messages.map((summary) => summary.id)).toEqual([firstHalf[7]!.id]);
    } finally {
      await reopened.close();
    }
  });

  it('indexes received messages on parse workers it talks to directly, and on its own without them', async () => {
    const parseWorker = new Worker(parseScript);
    const withWorkers = new SqliteStorage({
      parse: parseMessage,
      path: join(directory.path, 'indexed.sqlite'),
      writerScript,
      parsePorts: [attachedPort(parseWorker)],
    });
    const alone = new SqliteStorage({
      parse: parseMessage,
      path: join(directory.path, 'indexed-alone.sqlite'),
      writerScript,
    });
    try {
      for (const store of [withWorkers, alone]) {
        const messages = await Promise.all(
          Array.from({ length: 12 }, (_, index) =>
            newMessage(composeRaw({ subject: `Indexed ${index}`, body: `parsedword${index}` })),
          ),
        );
        await Promise.all(messages.map((message) => receiveWhole(store.spool, receivedPart(message))));
        const summaries = await Promise.all(messages.map((message) => store.mailbox.index(message.id)));
        expect(summaries.map((summary) => summary?.subject)).toEqual(
          messages.map((_, index) => `Indexed ${index}`),
        );
        expect(summaries.every((summary) => summary?.isParsed === true)).toBe(true);
        expect((await store.mailbox.list({ search: 'parsedword5' })).messages.map((each) => each.id)).toEqual(
          [messages[5]!.id],
        );
        expect(await store.mailbox.index(messages[0]!.id)).toBeNull(); // parsed already
        expect(await store.mailbox.listUnparsed(100)).toEqual([]);
      }
    } finally {
      await withWorkers.close();
      await alone.close();
      await parseWorker.terminate();
    }
  });

  it('sends the bytes to an attached parse worker, not to the main thread (a small idle one it parses itself)', async () => {
    // A stand-in worker whose parses are recognisable: the writer must have used its channel.
    const standIn = new Worker(
      `const { parentPort } = require('node:worker_threads');
      parentPort.on('message', ({ port }) => port.on('message', ({ id, raw }) => port.postMessage({ id, parsed: {
        subject: 'parsed on the attached worker (' + raw.byteLength + ' bytes)', from: null, to: [], cc: [], bcc: [],
        replyTo: [], messageIdHeader: null, dateHeaderMs: null, headers: [], text: null, html: null, attachments: [] } })));`,
      { eval: true },
    );
    const store = new SqliteStorage({
      parse: parseMessage,
      path: join(directory.path, 'stand-in.sqlite'),
      writerScript,
      parsePorts: [attachedPort(standIn)],
    });
    try {
      // Larger than what the writer parses itself when idle (16 KiB).
      const message = await newMessage(composeRaw({ subject: 'Real subject', body: 'x'.repeat(40_000) }));
      await receiveWhole(store.spool, receivedPart(message));
      expect((await store.mailbox.index(message.id))?.subject).toBe(
        `parsed on the attached worker (${message.raw.byteLength} bytes)`,
      );
      // A small message with no other parse underway: parsed on the writer thread, two hops sooner.
      const small = await newMessage(composeRaw({ subject: 'Small and alone' }));
      await receiveWhole(store.spool, receivedPart(small));
      expect((await store.mailbox.index(small.id))?.subject).toBe('Small and alone');
    } finally {
      await store.close();
      await standIn.terminate();
    }
  });

  it('lets main-thread writes and the writer thread take turns instead of failing with SQLITE_BUSY', async () => {
    const store = new SqliteStorage({
      parse: parseMessage,
      path: join(directory.path, 'turns.sqlite'),
      writerScript,
    });
    try {
      const messages = await Promise.all(
        Array.from({ length: 60 }, (_, index) => newMessage(composeRaw({ subject: `turn ${index}` }))),
      );
      const writes = messages.map(async (message) => {
        await receiveWhole(store.spool, receivedPart(message));
        return store.mailbox.saveParsed(message.id, parsedPart(message));
      });
      // Meanwhile the main thread writes on its own connection: flags, deletes, delete-all.
      for (let round = 0; round < 20; round += 1) {
        await store.mailbox.markAllRead();
        await store.mailbox.setRead(messages[round]!.id, false);
        await store.mailbox.delete(messages[round]!.id);
        if (round === 10) await store.mailbox.deleteAll();
        await new Promise((resolve) => setImmediate(resolve));
      }
      const outcomes = await Promise.allSettled(writes);
      expect(outcomes.filter((outcome) => outcome.status === 'rejected')).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it("commits companion rows on the writer thread, in the message's transaction", async () => {
    const path = join(directory.path, 'companions.sqlite');
    const store = new SqliteStorage({ parse: parseMessage, path, writerScript });
    try {
      // The queue's rows (migration 5), built by its router, committed with the message.
      const message = await newMessage(composeRaw({ subject: 'Threaded queue' }), {
        envelopeTo: ['x@example.net', 'y@example.net'],
      });
      const companionRows = deliveryRows({ ...message, messageId: message.id, postmasterDomain: 'mta.test' });
      await store.spool.receive(message.raw, { ...message, companionRows });
      const failing = await newMessage(composeRaw({ subject: 'No such table' }));
      await expect(
        store.spool.receive(failing.raw, {
          ...failing,
          companionRows: [{ table: 'no_such_table', values: { message_id: failing.id } }],
        }),
      ).rejects.toThrow(/no such table/);
      expect(await store.spool.getRaw(failing.id)).toBeNull();
      const reader = new Database(path, { readonly: true });
      expect(reader.prepare('SELECT recipient FROM deliveries ORDER BY recipient').pluck().all()).toEqual([
        'x@example.net',
        'y@example.net',
      ]);
      reader.close();
      // The queue's leases and reports cross to the writer thread and back as plain data.
      const leased = await store.queue.claimDue({
        now: message.receivedAtMs,
        limit: 5,
        holder: 'w',
        leaseMs: 1000,
      });
      expect(leased.map((delivery) => [delivery.recipient, delivery.lease.fencing])).toEqual([
        ['x@example.net', 1],
        ['y@example.net', 1],
      ]);
      const report = await store.queue.recordAttempt({
        deliveryId: leased[0]?.id ?? 0,
        fencing: 1,
        now: message.receivedAtMs + 1,
        result: { kind: 'succeeded' },
        attempt: null,
      });
      expect(report).toMatchObject({ ok: true, state: { status: 'delivered' } });
    } finally {
      await store.close();
    }
  });

  it('rejects only the write that fails, not the others sharing its commit', async () => {
    const store = new SqliteStorage({
      parse: parseMessage,
      path: join(directory.path, 'duplicate.sqlite'),
      writerScript,
    });
    try {
      const [first, second] = await Promise.all([
        newMessage(composeRaw({ subject: 'first' })),
        newMessage(composeRaw({ subject: 'second' })),
      ]);
      await receiveWhole(store.spool, receivedPart(first));
      const outcomes = await Promise.allSettled([
        receiveWhole(store.spool, receivedPart(second)),
        receiveWhole(store.spool, receivedPart(first)), // the same id again: a UNIQUE violation
      ]);
      expect(outcomes[0]?.status).toBe('fulfilled');
      expect(outcomes[1]).toMatchObject({ status: 'rejected', reason: { message: /UNIQUE/ } });
      expect((await store.mailbox.counts()).messageCount).toBe(2);
    } finally {
      await store.close();
    }
  });

  it('fails pending and later writes with a clear error when the writer thread dies', async () => {
    const dyingScript = join(scriptDirectory, 'dying-worker.mjs');
    writeFileSync(
      dyingScript,
      "import { parentPort } from 'node:worker_threads';\nparentPort.once('message', () => process.exit(3));\n",
    );
    const failures: Error[] = [];
    const store = new SqliteStorage({
      parse: parseMessage,
      path: join(directory.path, 'dying.sqlite'),
      writerScript: dyingScript,
      onWriterFailure: (error) => failures.push(error),
    });
    try {
      const message = await newMessage(composeRaw({ subject: 'lost' }));
      await expect(receiveWhole(store.spool, receivedPart(message))).rejects.toThrow(
        /writer thread exited with code 3/,
      );
      await expect(store.mailbox.saveParsed(message.id, parsedPart(message))).rejects.toThrow(
        /writer thread/,
      );
      expect(failures).toHaveLength(1);
      // Nothing was stored, and the main thread's connection still answers.
      expect(await store.spool.getRaw(message.id)).toBeNull();
    } finally {
      await store.close();
    }
  });
  it('checkpoints the WAL on a thread of its own, long before the writer would (SQLite: 1000 pages)', async () => {
    const path = join(directory.path, 'checkpointed.sqlite');
    const store = new SqliteStorage({ parse: parseMessage, path, writerScript });
    try {
      // About 2 MB of WAL: below the writer's own checkpoint threshold (1000 pages of 16 KB without
      // the checkpoint thread, 64 MB with it), so only the checkpoint thread copies it to the file.
      const body = 'checkpointed line of text for the write-ahead log\r\n'.repeat(2000);
      for (let index = 0; index < 20; index++) {
        const message = await newMessage(composeRaw({ subject: `Large ${index}`, body }));
        await receiveWhole(store.spool, receivedPart(message));
      }
      const deadline = Date.now() + 20_000;
      // The file holds only what a checkpoint copied; the rest is still in the WAL.
      while (statSync(path).size < 1024 * 1024 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 100));
      expect(statSync(path).size).toBeGreaterThan(1024 * 1024);
    } finally {
      await store.close();
    }
  }, 60_000);
});
