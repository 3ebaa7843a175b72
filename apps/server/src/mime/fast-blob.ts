const encoder = new TextEncoder();

/**
 * Just enough of Blob for postal-mime, which gathers every body part into `new Blob(lines)` with
 * two parts per line and reads it back with arrayBuffer(). Node 20's Blob handles thousands of
 * small parts slowly (a 100 KB text part took ~10 ms to parse; with this, ~1.7 ms). Installed only
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
    const arrays = parts.map((part) => {
      if (typeof part === 'string') return encoder.encode(part);
      if (part instanceof ArrayBuffer) return new Uint8Array(part);
      return new Uint8Array(part.buffer, part.byteOffset, part.byteLength);
    });
    let size = 0;
    for (const array of arrays) size += array.byteLength;
    const bytes = new Uint8Array(size);
    let offset = 0;
    for (const array of arrays) {
      bytes.set(array, offset);
      offset += array.byteLength;
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
