import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import type { MessageParser } from './message-parser.js';
import { ParseClient, type ParseWorkerRequest } from './parse-client.js';
import { parseMessage } from './parse-message.js';

/**
 * Parses in worker threads so the SMTP connections on the main thread and SQLite on the writer
 * thread keep their cores. The main thread's own parses (the message view) go to the least busy
 * worker; the writer thread gets channels of its own (connect()), so ingest parses never pass
 * through the main thread. The worker script exists only in the build (dist/parse-worker.js); when
 * it is missing (sources under test) or the size is 0, parsing runs inline: the same function
 * either way.
 */
export class ParsePool {
  readonly #workers: Worker[] = [];
  readonly #client: ParseClient;

  constructor(size: number) {
    const script = fileURLToPath(new URL('./parse-worker.js', import.meta.url));
    if (size > 0 && existsSync(script)) {
      for (let index = 0; index < size; index += 1) this.#workers.push(new Worker(script));
    }
    this.#client = new ParseClient(this.#workers);
    for (const worker of this.#workers) worker.on('error', (error) => this.#client.failAll(error));
  }

  get size(): number {
    return this.#workers.length;
  }

  readonly parse: MessageParser = (raw) => this.#client.parse(raw) ?? parseMessage(raw);

  /** A new channel to each worker, for another thread to parse on (empty when parsing inline). */
  connect(): MessagePort[] {
    return this.#workers.map((worker) => {
      const { port1, port2 } = new MessageChannel();
      const attach: ParseWorkerRequest = { type: 'attach', port: port1 };
      worker.postMessage(attach, [port1]);
      return port2;
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map((worker) => worker.terminate()));
    this.#workers.length = 0;
  }
}
