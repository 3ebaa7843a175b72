import { type MessagePort, parentPort } from 'node:worker_threads';
import { ConcatenatingBlob } from './fast-blob.js';
import type { ParseWorkerRequest, ParseWorkerResponse } from './parse-client.js';
import { parseMessage } from './parse-message.js';

// This thread only parses: give postal-mime a Blob that is fast with many small parts.
(globalThis as { Blob: unknown }).Blob = ConcatenatingBlob;

/**
 * Runs in a worker thread: MIME parsing is the CPU-heavy part of ingest, so it gets its own core.
 * It answers on the channel each request came in on: its parent port, or ports attached later.
 */
function serve(port: MessagePort): void {
  port.on('message', async (request: ParseWorkerRequest) => {
    if (request.type === 'attach') {
      serve(request.port);
      return;
    }
    const response: ParseWorkerResponse = { id: request.id, parsed: await parseMessage(request.raw) };
    port.postMessage(response);
  });
}

if (parentPort !== null) serve(parentPort);
