import { parentPort, workerData } from 'node:worker_threads';
import { ConcatenatingBlob } from '../mime/fast-blob.js';
import { ParseClient } from '../mime/parse-client.js';
import { parseMessage } from '../mime/parse-message.js';
import { ReceivedIndexer } from './received-indexer.js';
import type { WriterRequest, WriterResponse, WriterSettings } from './sqlite-writer-thread.js';
import { GroupCommitQueue, openConnection } from './sqlite-writes.js';
import { startWalCheckpointer } from './wal-checkpointer.js';

/**
 * Runs in the writer thread: owns its own connection and applies the ingest writes. While a commit's
 * fsync blocks this thread, requests keep queueing here and the main thread keeps serving SMTP; the
 * next commit takes all of them (the flush is scheduled with setImmediate, after the queued
 * messages are delivered). Indexing happens here too: the raw bytes of a received message go
 * straight to a parse worker and its parse straight back, without passing through the main thread.
 */
const settings = workerData as WriterSettings;
const database = openConnection(settings.path);
// Checkpoints run on a thread of their own, not inside the commits clients wait for.
startWalCheckpointer(database, settings.path);
const queue = new GroupCommitQueue(database, {
  groupCommitWindowMs: settings.groupCommitWindowMs,
  parseCommit: settings.parseCommit,
});
const parseClient = new ParseClient(settings.parsePorts);
/**
 * A small message that is the only one being parsed is parsed right here: two thread hops (to a
 * parse worker and back) cost more than its parse, and it is listed that much sooner. Under load,
 * or for larger messages, the parse workers take them, so this thread stays free for commits.
 */
const inlineParseMaxBytes = 16 * 1024;
// Those inline parses need postal-mime's fast Blob as much as the parse workers do (a 1 KB message
// took 0.27 ms with Node's Blob, 0.10 ms with this one); nothing else on this thread uses Blob.
(globalThis as { Blob: unknown }).Blob = ConcatenatingBlob;
const indexer = new ReceivedIndexer({
  database,
  queue,
  parse: (raw) =>
    (raw.byteLength <= inlineParseMaxBytes && queue.parsesUnderway <= 1 ? null : parseClient.parse(raw)) ??
    parseMessage(raw),
});
const port = parentPort;

/** Answers of one commit, sent as one message: they are settled in the same microtask run. */
let outbox: WriterResponse[] = [];

function reply(response: WriterResponse): void {
  outbox.push(response);
  if (outbox.length === 1) queueMicrotask(sendReplies);
}

function sendReplies(): void {
  const responses = outbox;
  outbox = [];
  port?.postMessage(responses);
}

port?.on('message', (requests: readonly WriterRequest[]) => {
  for (const request of requests) handle(request);
});

function handle(message: WriterRequest): void {
  switch (message.type) {
    case 'flush':
      queue.flush();
      // The flushed writes post their results from promise callbacks; acknowledge after those.
      setImmediate(() => reply({ id: message.id, result: null }));
      return;
    case 'index':
      answer(message.id, indexer.index(message.messageId, message.scope));
      return;
    case 'write':
      answer(message.id, queue.enqueue(message.request));
      return;
  }
}

function answer(id: number, outcome: Promise<unknown>): void {
  outcome.then(
    (result) => reply({ id, result }),
    (error: unknown) => {
      const { name, message: text, code } = error as { name?: string; message?: string; code?: unknown };
      reply({
        id,
        error: {
          name: name ?? 'Error',
          message: text ?? String(error),
          code: typeof code === 'string' ? code : null,
        },
      });
    },
  );
}
