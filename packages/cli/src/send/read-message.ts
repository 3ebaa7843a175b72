import { buffer } from 'node:stream/consumers';
import type { MessageSource } from '@smtp/client';

/** The whole message in memory, for a transaction sent by hand (--raw). */
export async function readMessage(source: MessageSource): Promise<Uint8Array> {
  if (typeof source === 'string') return new TextEncoder().encode(source);
  if (source instanceof Uint8Array) return source;
  return new Uint8Array(await buffer(source as Parameters<typeof buffer>[0]));
}
