const encoder = new TextEncoder();

/**
 * Just enough of Blob for postal-mime, which gathers every body part into `new Blob(lines)` with
 * two parts per line and reads it back with arrayBuffer(). Node 20's Blob handles thousands of
 * small parts slowly (a 100 KB text part took ~10 ms to parse; with this, under 1 ms). Installed only
 * inside the parse worker threads, whose globals are their own: the rest of the app (fetch, hono)
 * keeps the real Blob.
 */
export class ConcatenatingBlob {
  readonly type: string;
  readonly #bytes: Uint8Array;

  constructor(
    parts: readonly (string | ArrayBuffer | ArrayBufferView)[] = [],
    options: { type?: string } = {},
  ) {
    let size = 0;
    for (const part of parts) size += typeof part === 'string' ? utf8Length(part) : part.byteLength;
    const bytes = new Uint8Array(size);
    let offset = 0;
    // No array per part: postal-mime passes a line and a '\n' per body line, thousands per part.
    for (const part of parts) {
      if (typeof part === 'string') {
        offset += writeString(part, bytes, offset);
      } else if (part instanceof Uint8Array) {
        bytes.set(part, offset);
        offset += part.byteLength;
      } else {
        const view =
          part instanceof ArrayBuffer
            ? new Uint8Array(part)
            : new Uint8Array(part.buffer, part.byteOffset, part.byteLength);
        bytes.set(view, offset);
        offset += view.byteLength;
      }
    }
    this.#bytes = bytes;
    this.type = options.type ?? '';
  }

  get size(): number {
    return this.#bytes.byteLength;
  }

  get [Symbol.toStringTag](): string {
    return 'Blob';
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    return this.#bytes.buffer as ArrayBuffer;
  }
}

function isAsciiCharacter(part: string): boolean {
  return part.length === 1 && part.charCodeAt(0) < 0x80;
}

function utf8Length(part: string): number {
  return isAsciiCharacter(part) ? 1 : Buffer.byteLength(part, 'utf8');
}

/** Writes `part` as UTF-8 at `offset` (room is known to be there); returns the bytes written. */
function writeString(part: string, bytes: Uint8Array, offset: number): number {
  if (isAsciiCharacter(part)) {
    bytes[offset] = part.charCodeAt(0);
    return 1;
  }
  return encoder.encodeInto(part, bytes.subarray(offset)).written;
}
