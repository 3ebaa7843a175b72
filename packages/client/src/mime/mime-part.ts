/** A body as it is written: already encoded, or encoded while the message is read. */
export type PartBody =
  /** Encoded already (7bit or quoted-printable text): written as it is. */
  | { readonly kind: 'encoded'; readonly bytes: Uint8Array }
  /** Bytes in memory, base64 encoded a block at a time as the message is read. */
  | { readonly kind: 'base64'; readonly bytes: Uint8Array }
  /** A stream (or a file), opened when the message reaches it and base64 encoded as it arrives. */
  | { readonly kind: 'base64-stream'; readonly open: () => AsyncIterable<Uint8Array | string> }
  /** A stream whose chunks are written as they come (quoted-printable text from an encoder, message/*). */
  | { readonly kind: 'stream'; readonly open: () => AsyncIterable<Uint8Array | string> };

/** One node of the MIME tree (RFC 2046 §5.1): a body, or parts between boundary lines. */
export type MimePart =
  | { readonly type: 'single'; readonly header: string; readonly body: PartBody }
  | {
      readonly type: 'multipart';
      readonly header: string;
      readonly boundary: string;
      readonly parts: readonly MimePart[];
    };
