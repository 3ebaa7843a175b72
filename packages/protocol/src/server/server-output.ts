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
  const view = slab.subarray(slabUsed, slabUsed + length);
  slabUsed += length;
  return view;
}
