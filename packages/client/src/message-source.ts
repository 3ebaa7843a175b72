import type { Readable } from 'node:stream';
import { normalizedMessageSize, SmtpUsageError } from '@smtp/protocol';

/**
 * What `send()` accepts as a message. Strings and byte arrays are already in memory; the stream forms are
 * read chunk by chunk as the socket drains, so a message is never held whole by this package.
 */
export type MessageSource =
  | string
  | Uint8Array
  | ReadableStream<Uint8Array>
  | Readable
  | AsyncIterable<Uint8Array | string>;

/** Size of the prefix that is looked at before MAIL FROM to choose BODY= when the caller did not say. */
export const peekLimitBytes = 64 * 1024;

const encoder = new TextEncoder();

/** A message as chunks, with whatever is known up front. */
export interface OpenedMessage {
  /**
   * The size declared with SIZE= and checked against the server's limit (RFC 1870 §3): the message as
   * sent, with CRLF line ends (a bare LF is sent as CRLF), when the whole message is in `head`.
   */
  readonly size: number | null;
  /** Bytes already read (at most peekLimitBytes unless the whole message was in memory). */
  readonly head: readonly Uint8Array[];
  /** True when `head` is the whole message. */
  readonly complete: boolean;
  /** The remaining chunks, after `head`. */
  readonly rest: AsyncIterator<Uint8Array> | null;
  /** Releases the underlying stream when the send stops early. */
  cancel(reason?: unknown): void;
}

export function isMessageSource(value: unknown): value is MessageSource {
  return (
    typeof value === 'string' ||
    value instanceof Uint8Array ||
    (typeof value === 'object' &&
      value !== null &&
      (Symbol.asyncIterator in value || typeof (value as { getReader?: unknown }).getReader === 'function'))
  );
}

/**
 * Opens a message source and reads at most `peekLimitBytes` ahead. Strings are UTF-8 encoded once;
 * streams are read lazily afterwards through `rest`.
 */
export async function openMessage(source: MessageSource): Promise<OpenedMessage> {
  const inMemory = openMessageNow(source);
  if (inMemory !== null) return inMemory;
  const iterator = toChunkIterator(source as Exclude<MessageSource, string | Uint8Array>);
  const head: Uint8Array[] = [];
  let headBytes = 0;
  while (headBytes < peekLimitBytes) {
    const step = await iterator.next();
    if (step.done)
      return { size: normalizedMessageSize(head), head, complete: true, rest: null, cancel() {} };
    if (step.value.byteLength === 0) continue;
    head.push(step.value);
    headBytes += step.value.byteLength;
  }
  return {
    size: null,
    head,
    complete: false,
    rest: iterator,
    cancel(reason) {
      void iterator.return?.(reason).catch(() => {});
    },
  };
}

/** A string or byte array opened synchronously; null for the stream forms. */
export function openMessageNow(source: MessageSource): OpenedMessage | null {
  if (typeof source === 'string') {
    const bytes = encoder.encode(source);
    return { size: normalizedMessageSize([bytes]), head: [bytes], complete: true, rest: null, cancel: noop };
  }
  if (source instanceof Uint8Array) {
    return {
      size: normalizedMessageSize([source]),
      head: [source],
      complete: true,
      rest: null,
      cancel: noop,
    };
  }
  return null;
}

function noop(): void {}

/** All chunks of an opened message, head first. */
export async function* messageChunks(message: OpenedMessage): AsyncGenerator<Uint8Array> {
  yield* message.head;
  const rest = message.rest;
  if (rest === null) return;
  for (;;) {
    const step = await rest.next();
    if (step.done) return;
    if (step.value.byteLength > 0) yield step.value;
  }
}

function toChunkIterator(source: Exclude<MessageSource, string | Uint8Array>): AsyncIterator<Uint8Array> {
  if (Symbol.asyncIterator in source) {
    // Node Readable, async generators, and (in Node 20) Web ReadableStream all land here.
    const inner = (source as AsyncIterable<Uint8Array | string>)[Symbol.asyncIterator]();
    return {
      async next() {
        const step = await inner.next();
        if (step.done) return { done: true, value: undefined };
        return { done: false, value: toBytes(step.value) };
      },
      async return(value?: unknown) {
        await inner.return?.(value);
        return { done: true, value: undefined };
      },
    };
  }
  const reader = (source as ReadableStream<Uint8Array>).getReader();
  return {
    async next() {
      const step = await reader.read();
      if (step.done) {
        reader.releaseLock();
        return { done: true, value: undefined };
      }
      return { done: false, value: toBytes(step.value) };
    },
    async return(reason?: unknown) {
      await reader.cancel(reason);
      return { done: true, value: undefined };
    },
  };
}

function toBytes(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (typeof chunk === 'string') return encoder.encode(chunk);
  if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk);
  throw new SmtpUsageError(`A message stream yielded ${typeof chunk}; expected Uint8Array or string chunks`);
}
