import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { type ParsedMessage, parseMessage } from './parse-message.js';

export type ParseFunction = (raw: Uint8Array) => Promise<ParsedMessage>;

interface PendingParse {
  readonly resolve: (parsed: ParsedMessage) => void;
  readonly reject: (error: unknown) => void;
}

interface PoolWorker {
  readonly worker: Worker;
  readonly pending: Map<number, PendingParse>;
}

/**
 * Parses in worker threads so the SMTP connections and SQLite on the main thread keep one core to
 * themselves. Every message goes to the least busy worker: parsing happens after the 250, so the
 * trip to a worker adds no reply latency. The worker script exists only in the build
 * (dist/parse-worker.js); when it is missing (sources under test) or the size is 0, parsing runs
 * inline: the same function either way.
 */
export class ParsePool {
  readonly #workers: PoolWorker[] = [];
  #nextId = 0;

  constructor(size: number) {
    const script = fileURLToPath(new URL('./parse-worker.js', import.meta.url));
    if (size <= 0 || !existsSync(script)) return;
    for (let index = 0; index < size; index += 1) {
      const worker = new Worker(script);
      const entry: PoolWorker = { worker, pending: new Map() };
      worker.on('message', (response: { id: number; parsed: ParsedMessage }) => {
        const pending = entry.pending.get(response.id);
        entry.pending.delete(response.id);
        pending?.resolve(response.parsed);
      });
      worker.on('error', (error) => {
        for (const pending of entry.pending.values()) pending.reject(error);
        entry.pending.clear();
      });
      worker.unref();
      this.#workers.push(entry);
    }
  }

  get size(): number {
    return this.#workers.length;
  }

  readonly parse: ParseFunction = (raw) => {
    const entry = this.#workers.reduce<PoolWorker | undefined>(
      (least, each) => (least === undefined || each.pending.size < least.pending.size ? each : least),
      undefined,
    );
    if (entry === undefined) return parseMessage(raw);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      entry.pending.set(id, { resolve, reject });
      entry.worker.postMessage({ id, raw });
    });
  };

  async close(): Promise<void> {
    await Promise.all(this.#workers.map((entry) => entry.worker.terminate()));
    this.#workers.length = 0;
  }
}
