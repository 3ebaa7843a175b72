import { SmtpUsageError } from '../errors.js';

function encodeAscii(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let index = 0; index < text.length; index++) bytes[index] = text.charCodeAt(index);
  return bytes;
}

/**
 * Frames one BDAT chunk (RFC 3030 §2): `BDAT <size>[ LAST]\r\n` followed by the chunk itself, which is
 * sent as is (no dot-stuffing, no line-ending rules). The returned chunk is the caller's array, not a copy.
 */
export function encodeBdat(chunk: Uint8Array, last: boolean): Uint8Array[] {
  return [encodeAscii(`BDAT ${chunk.length}${last ? ' LAST' : ''}\r\n`), chunk];
}

/**
 * Reads exactly the `size` octets that follow a BDAT command (RFC 3030 §2), however they are split.
 * The bytes after them belong to the next command.
 */
export class BdatReader {
  #remainingBytes: number;

  constructor(size: number) {
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new SmtpUsageError(`BDAT size must be a non-negative safe integer, got ${size}`);
    }
    this.#remainingBytes = size;
  }

  /** Bytes still owed by the peer. */
  get remainingBytes(): number {
    return this.#remainingBytes;
  }

  /** `output` is a view into `chunk` (null when nothing of it belongs to this BDAT); `done` once all arrived. */
  read(chunk: Uint8Array): { output: Uint8Array | null; consumedBytes: number; done: boolean } {
    const consumedBytes = Math.min(chunk.length, this.#remainingBytes);
    this.#remainingBytes -= consumedBytes;
    return {
      output: consumedBytes > 0 ? chunk.subarray(0, consumedBytes) : null,
      consumedBytes,
      done: this.#remainingBytes === 0,
    };
  }
}
