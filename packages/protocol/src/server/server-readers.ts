// The readers of the phases that do not read commands (house guide §2.3: readers chosen by phase).
// Each takes what it owns from the session's input and says how far it got; the session decides
// what follows (replies, events, the next phase).

import { BdatReader } from '../message/bdat.js';
import { DotDecoder, type DotDecoderOptions } from '../message/dot-decoder.js';
import type { Reply } from '../reply/reply.js';
import type { IncomingMessage } from './incoming-message.js';
import type { ServerInput } from './server-input.js';

/** 'needs-input': nothing to read yet; 'read': some was read; 'ended': this reader is done. */
export type ReadOutcome = 'needs-input' | 'read' | 'ended';

/** DATA content up to CRLF.CRLF, dot-unstuffed (RFC 5321 §4.5.2). */
export class DataReader {
  readonly #decoder: DotDecoder;

  constructor(options: DotDecoderOptions) {
    this.#decoder = new DotDecoder(options);
  }

  read(input: ServerInput, message: IncomingMessage): ReadOutcome {
    const unread = input.peek();
    if (unread === null) return 'needs-input';
    const result = this.#decoder.decode(unread);
    input.consume(result.consumedBytes);
    // A violation anywhere in this piece gives the message up before any of it is delivered.
    if (result.violation !== null) message.abort(result.violation);
    for (const piece of result.output) message.deliver(piece);
    return result.ended ? 'ended' : 'read';
  }
}

/** The octets of one accepted BDAT chunk (RFC 3030 §2). */
export class BdatChunkReader {
  readonly #reader: BdatReader;
  readonly isLast: boolean;

  constructor(size: number, isLast: boolean) {
    this.#reader = new BdatReader(size);
    this.isLast = isLast;
  }

  read(input: ServerInput, message: IncomingMessage): ReadOutcome {
    const reader = this.#reader;
    if (reader.remainingBytes === 0) return 'ended';
    const unread = input.peek();
    if (unread === null) return 'needs-input';
    const result = reader.read(unread);
    input.consume(result.consumedBytes);
    if (result.output !== null) message.deliver(result.output);
    return result.done ? 'ended' : 'read';
  }
}

/** The octets of a refused BDAT chunk: read and dropped, then its refusal is sent (RFC 3030 §2). */
export class RefusedChunkReader {
  #remainingBytes: number;
  readonly reply: Reply;
  /** The command line, for the command-rejected event. */
  readonly line: string;
  readonly isLast: boolean;

  constructor(options: { size: number; reply: Reply; line: string; isLast: boolean }) {
    this.#remainingBytes = options.size;
    this.reply = options.reply;
    this.line = options.line;
    this.isLast = options.isLast;
  }

  read(input: ServerInput): ReadOutcome {
    if (this.#remainingBytes === 0) return 'ended';
    const available = input.size;
    if (available === 0) return 'needs-input';
    const count = Math.min(available, this.#remainingBytes);
    input.consume(count);
    this.#remainingBytes -= count;
    return this.#remainingBytes === 0 ? 'ended' : 'read';
  }
}
