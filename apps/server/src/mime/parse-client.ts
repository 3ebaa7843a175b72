import type { MessagePort, Worker } from 'node:worker_threads';
import type { ParsedMessage } from './parsed-message.js';

/**
 * The parse workers' protocol (mime/parse-worker.ts), plain data so it crosses threads by
 * structured clone. A worker answers on the channel a request came in on: its own port (the main
 * thread) or one attached later (the SQLite writer thread, which sends it raw bytes directly).
 */
export type ParseWorkerRequest =
  | { readonly type: 'parse'; readonly id: number; readonly raw: Uint8Array }
  | { readonly type: 'attach'; readonly port: MessagePort };

export interface ParseWorkerResponse {
  readonly id: number;
  readonly parsed: ParsedMessage;
}

/** Either end that speaks the protocol: a Worker (from the main thread) or a MessagePort. */
type ParseChannel = Pick<Worker | MessagePort, 'postMessage' | 'on' | 'unref'>;

interface Lane {
  readonly channel: ParseChannel;
  readonly pending: Map<number, { resolve(parsed: ParsedMessage): void; reject(error: unknown): void }>;
}

/** Sends parses over parse-worker channels, each to the one with the fewest in flight. */
export class ParseClient {
  readonly #lanes: Lane[];
  #nextId = 0;

  constructor(channels: readonly ParseChannel[]) {
    this.#lanes = channels.map((channel) => {
      const lane: Lane = { channel, pending: new Map() };
      channel.on('message', (response: ParseWorkerResponse) => {
        const pending = lane.pending.get(response.id);
        lane.pending.delete(response.id);
        pending?.resolve(response.parsed);
      });
      // Idle, a channel must not keep its thread alive.
      channel.unref();
      return lane;
    });
  }

  get size(): number {
    return this.#lanes.length;
  }

  /** Parses on the least busy channel; null when there is no channel. */
  parse(raw: Uint8Array): Promise<ParsedMessage> | null {
    const lane = this.#lanes.reduce<Lane | undefined>(
      (least, each) => (least === undefined || each.pending.size < least.pending.size ? each : least),
      undefined,
    );
    if (lane === undefined) return null;
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      lane.pending.set(id, { resolve, reject });
      const request: ParseWorkerRequest = { type: 'parse', id, raw };
      lane.channel.postMessage(request);
    });
  }

  /** Fails what is in flight on every channel (a worker died). */
  failAll(error: unknown): void {
    for (const lane of this.#lanes) {
      for (const pending of lane.pending.values()) pending.reject(error);
      lane.pending.clear();
    }
  }
}
