import { parentPort } from 'node:worker_threads';
import { ConcatenatingBlob } from './fast-blob.js';
import { parseMessage } from './parse-message.js';

// This thread only parses: give postal-mime a Blob that is fast with many small parts.
(globalThis as { Blob: unknown }).Blob = ConcatenatingBlob;

/** Runs in a worker thread: MIME parsing is the CPU-heavy part of ingest, so it gets its own core. */
parentPort?.on('message', async (request: { readonly id: number; readonly raw: Uint8Array }) => {
  const parsed = await parseMessage(request.raw);
  parentPort?.postMessage({ id: request.id, parsed });
});
