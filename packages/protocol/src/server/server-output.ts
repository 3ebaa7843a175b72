// What a session hands out: reply bytes (takeOutput) and events (nextEvent).
//
// Output buffers are carved from shared slabs, as Node does for small Buffers: one allocation per
// 64 KiB of replies instead of one per takeOutput(). A slab is never written twice, so every view
// handed out stays valid.
const slabBytes = 65536;
let slab = new Uint8Array(slabBytes);
let slabUsed = 0;

/** A fresh view of `length` bytes for takeOutput(). */
export function allocateOutput(length: number): Uint8Array {
  if (length > slabBytes / 8) return new Uint8Array(length);
  if (slabUsed + length > slabBytes) {
    slab = new Uint8Array(slabBytes);
    slabUsed = 0;
  }
  // Not subarray(): a view made with the constructor skips the species lookup, about three times cheaper.
  const view = new Uint8Array(slab.buffer, slabUsed, length);
  slabUsed += length;
  return view;
}

/**
 * Replies waiting for takeOutput(), in order. The first piece has a slot of its own and the others
 * an array made on first use, reused without truncation (setting length is slow): an idle session,
 * its greeting written and taken, holds no array at all.
 */
export class ServerOutput {
  #first: Uint8Array | null = null;
  #more: (Uint8Array | undefined)[] | null = null; // pieces 2, 3, …
  #count = 0;
  #bytes = 0;

  write(bytes: Uint8Array): void {
    if (this.#count === 0) {
      this.#first = bytes;
    } else {
      this.#more ??= [];
      this.#more[this.#count - 1] = bytes;
    }
    this.#count += 1;
    this.#bytes += bytes.length;
  }

  /** Everything written since the last call, as one buffer; null when nothing was. */
  take(): Uint8Array | null {
    if (this.#bytes === 0) return null;
    const first = this.#first as Uint8Array;
    this.#first = null;
    // Always a copy, even of a single piece: pieces are often shared by every session (catalogue
    // replies, the greeting, the EHLO reply), and the caller owns what it is given.
    const output = allocateOutput(this.#bytes);
    output.set(first, 0);
    let position = first.length;
    const pieces = this.#more as (Uint8Array | undefined)[];
    for (let index = 0; index < this.#count - 1; index++) {
      const piece = pieces[index] as Uint8Array;
      output.set(piece, position);
      position += piece.length;
      pieces[index] = undefined;
    }
    this.#count = 0;
    this.#bytes = 0;
    return output;
  }
}

/** Events waiting for nextEvent(), first in first out; the array is made on first use and reused. */
export class EventQueue<T> {
  #items: (T | undefined)[] | null = null;
  #head = 0;
  #count = 0;

  push(item: T): void {
    this.#items ??= [];
    this.#items[this.#count] = item;
    this.#count += 1;
  }

  /** The oldest item, or undefined when there is none. */
  shift(): T | undefined {
    if (this.#head === this.#count) return undefined;
    const items = this.#items as (T | undefined)[];
    const item = items[this.#head];
    items[this.#head] = undefined;
    this.#head += 1;
    if (this.#head === this.#count) {
      this.#head = 0;
      this.#count = 0;
    }
    return item;
  }
}
