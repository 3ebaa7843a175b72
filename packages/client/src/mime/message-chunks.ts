import { Base64LineEncoder, base64BlockBytes, encodeBase64Lines } from './base64-lines.js';
import type { MimePart, PartBody } from './mime-part.js';

/** Chunks of about this size leave the generator: few and large, but never the whole message. */
const chunkBytes = 64 * 1024;

/**
 * The message bytes in order. In-memory parts are gathered into chunks of about 64 KiB (a small message
 * is one chunk); streams are read only when the message reaches them, at the reader's pace.
 */
export async function* messageChunks(root: MimePart): AsyncGenerator<Buffer, void, undefined> {
  const writer = new ChunkWriter();
  yield* writePart(root, writer);
  const last = writer.take();
  if (last !== null) yield last;
}

async function* writePart(part: MimePart, writer: ChunkWriter): AsyncGenerator<Buffer, void, undefined> {
  writer.addText(part.header);
  if (part.type === 'single') {
    writer.isAtLineStart = false;
    yield* writeBody(part.body, writer);
    return;
  }
  // RFC 2046 §5.1.1: the CRLF before a boundary line belongs to the boundary, not to the body before it;
  // the first boundary line may open the body (no preamble).
  writer.isAtLineStart = true;
  for (const child of part.parts) {
    writer.addText(writer.isAtLineStart ? `--${part.boundary}\r\n` : `\r\n--${part.boundary}\r\n`);
    yield* writePart(child, writer);
  }
  writer.addText(writer.isAtLineStart ? `--${part.boundary}--\r\n` : `\r\n--${part.boundary}--\r\n`);
  writer.isAtLineStart = true;
}

async function* writeBody(body: PartBody, writer: ChunkWriter): AsyncGenerator<Buffer, void, undefined> {
  switch (body.kind) {
    case 'encoded': {
      writer.add(body.bytes);
      writer.isAtLineStart = endsWithLineBreak(body.bytes);
      return;
    }
    case 'base64': {
      const { bytes } = body;
      for (let offset = 0; offset < bytes.byteLength; offset += base64BlockBytes) {
        writer.add(encodeBase64Lines(bytes.subarray(offset, offset + base64BlockBytes)));
        if (writer.bytes >= chunkBytes) yield writer.take()!;
      }
      // Every base64 line ends with CRLF.
      writer.isAtLineStart = bytes.byteLength > 0;
      return;
    }
    case 'base64-stream': {
      const encoder = new Base64LineEncoder();
      let isEmpty = true;
      for await (const piece of body.open()) {
        for (const lines of encoder.push(toBytes(piece))) writer.add(lines);
        isEmpty &&= piece.length === 0;
        if (writer.bytes >= chunkBytes) yield writer.take()!;
      }
      const last = encoder.end();
      if (last !== null) writer.add(last);
      writer.isAtLineStart = !isEmpty;
      return;
    }
    case 'stream': {
      let last: Uint8Array | null = null;
      for await (const piece of body.open()) {
        const bytes = toBytes(piece);
        if (bytes.byteLength === 0) continue;
        writer.add(bytes);
        last = bytes;
        if (writer.bytes >= chunkBytes) yield writer.take()!;
      }
      writer.isAtLineStart = last !== null && endsWithLineBreak(last);
      return;
    }
  }
}

/** Collects pieces until they are worth a chunk; header text is converted once per chunk. */
class ChunkWriter {
  /** True when what was written last ends with CRLF that a following boundary line may use. */
  isAtLineStart = false;
  #text = '';
  #pieces: Uint8Array[] = [];
  #pieceBytes = 0;

  get bytes(): number {
    return this.#pieceBytes + this.#text.length;
  }

  addText(text: string): void {
    this.#text += text;
  }

  add(bytes: Uint8Array): void {
    this.#flushText();
    this.#pieces.push(bytes);
    this.#pieceBytes += bytes.byteLength;
  }

  take(): Buffer | null {
    this.#flushText();
    const pieces = this.#pieces;
    if (pieces.length === 0) return null;
    const chunk =
      pieces.length === 1
        ? Buffer.from(pieces[0]!.buffer, pieces[0]!.byteOffset, pieces[0]!.byteLength)
        : Buffer.concat(pieces, this.#pieceBytes);
    this.#pieces = [];
    this.#pieceBytes = 0;
    return chunk;
  }

  #flushText(): void {
    if (this.#text === '') return;
    // Headers are ASCII once encoded, except UTF-8 addresses (RFC 6532), hence utf8.
    const bytes = Buffer.from(this.#text, 'utf8');
    this.#text = '';
    this.#pieces.push(bytes);
    this.#pieceBytes += bytes.byteLength;
  }
}

function endsWithLineBreak(bytes: Uint8Array): boolean {
  const length = bytes.byteLength;
  return length >= 2 && bytes[length - 2] === 0x0d && bytes[length - 1] === 0x0a;
}

function toBytes(piece: Uint8Array | string): Uint8Array {
  return typeof piece === 'string' ? Buffer.from(piece, 'utf8') : piece;
}
