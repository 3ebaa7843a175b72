import { SmtpUsageError } from '../errors.js';
import { isEnhancedStatus } from './create-reply.js';
import type { EnhancedStatus, Reply } from './reply.js';

export type ReplyParseResult =
  | { readonly ok: true; readonly value: Reply }
  | { readonly ok: false; readonly error: string; readonly line: string };

export interface ReplyParserOptions {
  /** Longest reply line accepted, line ending included. RFC 5321 §4.5.3.1.5 asks for 512; default 4096. */
  readonly maxLineBytes?: number;
  /** Most lines one multi-line reply may have. Default 1000. */
  readonly maxLines?: number;
}

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const HYPHEN = 0x2d;
const DIGIT_0 = 0x30;
const utf8 = new TextDecoder('utf-8');

/** A line split into its parts, or the reason it is not a reply line. */
type ReplyLine = { code: number; isFinal: boolean; text: string } | { error: string };

/**
 * Turns the bytes a server sends into replies (RFC 5321 §4.2):
 * `*( code "-" [ text ] CRLF ) code [ SP text ] CRLF`.
 *
 * - Incremental: `push()` chunks as they arrive, then call `next()` until it returns null. The result
 *   does not depend on how the stream is split.
 * - Bounded: once `next()` returned null, at most `maxLineBytes` of an unfinished line stay buffered.
 *   A longer line is reported as soon as it is known to be too long and skipped up to its LF.
 * - Strict about the three-digit code and the separator (`-`, a space, or nothing after the code);
 *   lenient about line endings (bare LF ends a line too, since servers in the wild send it).
 * - Never throws on peer input: bad input is an `ok: false` result, and parsing goes on after it.
 *
 * Enhanced status codes (RFC 2034 §4) are recognised when the first line's text starts with
 * `class.subject.detail` followed by a space or the end of the text, the class equals the first digit
 * of the code, and the code is 2xx, 4xx or 5xx. The code is then stripped from every line that
 * starts with it and reported once in `Reply.enhanced`.
 */
export class ReplyParser {
  readonly #maxLineBytes: number;
  readonly #maxLines: number;
  /** Chunks not yet read; the first one from `#chunkOffset`. */
  readonly #chunks: Uint8Array[] = [];
  #chunkOffset = 0;
  /** The start of a line whose LF has not arrived yet, copied out of its chunk. */
  #partial: Uint8Array | null = null;
  #partialLength = 0;
  /** Skipping the rest of an over-long line, up to and including its LF. */
  #isDiscardingLine = false;
  /** The reply being assembled. */
  #code = 0;
  #lines: string[] = [];
  /** After an error inside a multi-line reply: the remaining lines of that reply are skipped. */
  #skipCode = 0;
  /** A result found while producing another one, returned by the next call. */
  #queued: ReplyParseResult | null = null;

  constructor(options: ReplyParserOptions = {}) {
    const { maxLineBytes = 4096, maxLines = 1000 } = options;
    // The smallest useful line is "250 x" plus CRLF; below that every line would be "too long".
    if (!Number.isInteger(maxLineBytes) || maxLineBytes < 8) {
      throw new SmtpUsageError(`maxLineBytes must be an integer of at least 8, got ${maxLineBytes}`);
    }
    if (!Number.isInteger(maxLines) || maxLines < 1) {
      throw new SmtpUsageError(`maxLines must be a positive integer, got ${maxLines}`);
    }
    this.#maxLineBytes = maxLineBytes;
    this.#maxLines = maxLines;
  }

  /** Bytes received and not yet turned into replies (excludes the text of lines already decoded). */
  get bufferedBytes(): number {
    let total = this.#partialLength - this.#chunkOffset;
    for (const chunk of this.#chunks) total += chunk.length;
    return total;
  }

  /** Hands the parser the next bytes from the server. The chunk is read later and never modified. */
  push(chunk: Uint8Array): void {
    if (chunk.length > 0) this.#chunks.push(chunk);
  }

  /** The next complete reply or error, or null when more bytes are needed. */
  next(): ReplyParseResult | null {
    const queued = this.#queued;
    if (queued !== null) {
      this.#queued = null;
      return queued;
    }
    for (;;) {
      const line = this.#readLine();
      if (line === null) return null;
      const result = typeof line === 'string' ? this.#overlong(line) : this.#accept(line);
      if (result !== null) return result;
    }
  }

  /** A line too long to hold: report it and skip the rest of its reply. */
  #overlong(prefix: string): ReplyParseResult | null {
    const start = parseLineStart(prefix);
    if (this.#skipCode !== 0 && start !== null && start.code === this.#skipCode) {
      if (start.isFinal) this.#skipCode = 0; // one more line of a reply already reported
      return null;
    }
    this.#resetReply();
    // The start of the line tells whether more lines of the same reply follow; they are skipped so
    // that one broken reply gives one result, and later replies still pair with their commands.
    this.#skipCode = start !== null && !start.isFinal ? start.code : 0;
    return { ok: false, error: `Reply line longer than ${this.#maxLineBytes} bytes`, line: prefix };
  }

  #accept(bytes: Uint8Array): ReplyParseResult | null {
    const parsed = parseLine(bytes);
    if ('error' in parsed) {
      this.#skipCode = 0;
      this.#resetReply();
      return { ok: false, error: parsed.error, line: utf8.decode(bytes) };
    }
    const { code, isFinal, text } = parsed;
    if (this.#skipCode !== 0) {
      const skipCode = this.#skipCode;
      if (code === skipCode) {
        if (isFinal) this.#skipCode = 0;
        return null;
      }
      this.#skipCode = 0; // another reply started: the broken one ended without its last line
    }
    if (this.#lines.length > 0 && code !== this.#code) {
      // RFC 5321 §4.2.1: every line of a multi-line reply carries the same code. The reply so far
      // is dropped; the mismatching line is not: it starts the next reply.
      const error = `Reply code ${code} differs from ${this.#code} on the lines before it`;
      this.#resetReply();
      this.#queued = this.#addLine(code, isFinal, text);
      return { ok: false, error, line: utf8.decode(bytes) };
    }
    return this.#addLine(code, isFinal, text);
  }

  #addLine(code: number, isFinal: boolean, text: string): ReplyParseResult | null {
    this.#code = code;
    this.#lines.push(text);
    if (isFinal) {
      const value = buildReply(code, this.#lines);
      this.#resetReply();
      return { ok: true, value };
    }
    if (this.#lines.length >= this.#maxLines) {
      this.#resetReply();
      this.#skipCode = code;
      return { ok: false, error: `Reply has more than ${this.#maxLines} lines`, line: `${code}-${text}` };
    }
    return null;
  }

  #resetReply(): void {
    this.#code = 0;
    this.#lines = [];
  }

  /**
   * The next line without its line ending: bytes (a view, valid until the next call), a string for the
   * decoded start of an over-long line, or null when no complete line is buffered.
   */
  #readLine(): Uint8Array | string | null {
    const chunks = this.#chunks;
    while (chunks.length > 0) {
      const chunk = chunks[0] as Uint8Array;
      const start = this.#chunkOffset;
      const lineFeed = chunk.indexOf(LF, start);
      if (lineFeed < 0) {
        chunks.shift();
        this.#chunkOffset = 0;
        if (this.#isDiscardingLine) continue;
        const overlong = this.#append(chunk.subarray(start));
        if (overlong !== null) return overlong;
        continue;
      }
      this.#chunkOffset = lineFeed + 1;
      if (this.#chunkOffset === chunk.length) {
        chunks.shift();
        this.#chunkOffset = 0;
      }
      if (this.#isDiscardingLine) {
        this.#isDiscardingLine = false;
        continue;
      }
      const piece = chunk.subarray(start, lineFeed);
      let line: Uint8Array;
      if (this.#partialLength > 0) {
        const overlong = this.#append(piece);
        if (overlong !== null) {
          this.#isDiscardingLine = false; // its LF is already here
          return overlong;
        }
        line = (this.#partial as Uint8Array).subarray(0, this.#partialLength);
        this.#partialLength = 0;
      } else {
        line = piece;
      }
      if (line.length > 0 && line[line.length - 1] === CR) line = line.subarray(0, line.length - 1);
      if (line.length > this.#maxLineBytes - 2) return this.#prefixOf(line, new Uint8Array(0));
      return line;
    }
    return null;
  }

  /**
   * Adds bytes of an unfinished line to `#partial`. Returns the decoded start of the line when it is
   * now certainly too long (even a final CR could not save it), after dropping what was held.
   */
  #append(bytes: Uint8Array): string | null {
    const held = this.#partialLength;
    // Content may be maxLineBytes - 2 long; one more byte could still be the CR of CRLF.
    if (held + bytes.length > this.#maxLineBytes - 1) {
      const partial = this.#partial === null ? new Uint8Array(0) : this.#partial.subarray(0, held);
      const prefix = this.#prefixOf(partial, bytes);
      this.#partialLength = 0;
      this.#isDiscardingLine = true;
      return prefix;
    }
    if (this.#partial === null) this.#partial = new Uint8Array(this.#maxLineBytes);
    this.#partial.set(bytes, held);
    this.#partialLength = held + bytes.length;
    return null;
  }

  /** The first `maxLineBytes - 2` bytes of `head` + `tail`, decoded: the same however the line arrived. */
  #prefixOf(head: Uint8Array, tail: Uint8Array): string {
    const limit = this.#maxLineBytes - 2;
    if (head.length >= limit) return utf8.decode(head.subarray(0, limit));
    const bytes = new Uint8Array(limit);
    bytes.set(head, 0);
    bytes.set(tail.subarray(0, limit - head.length), head.length);
    return utf8.decode(bytes.subarray(0, Math.min(limit, head.length + tail.length)));
  }
}

function isDigit(byte: number | undefined): boolean {
  return byte !== undefined && byte >= DIGIT_0 && byte <= DIGIT_0 + 9;
}

/**
 * RFC 5321 §4.2: `Reply-code [ SP textstring ]` or `Reply-code "-" [ textstring ]`. Codes are accepted
 * from 200 to 599, the range createReply builds, so whatever we serialize parses back.
 */
function parseLine(bytes: Uint8Array): ReplyLine {
  const first = bytes[0];
  if (bytes.length < 3 || first === undefined || first < DIGIT_0 + 2 || first > DIGIT_0 + 5) {
    return { error: 'Reply line does not start with a reply code from 200 to 599' };
  }
  const second = bytes[1];
  const third = bytes[2];
  if (!isDigit(second) || !isDigit(third)) {
    return { error: 'Reply line does not start with a reply code from 200 to 599' };
  }
  const code = (first - DIGIT_0) * 100 + ((second as number) - DIGIT_0) * 10 + ((third as number) - DIGIT_0);
  if (bytes.length === 3) return { code, isFinal: true, text: '' };
  const separator = bytes[3];
  if (separator !== SPACE && separator !== HYPHEN) {
    return { error: 'Reply code is not followed by a space, a hyphen or the line end' };
  }
  const textBytes = bytes.subarray(4);
  // A CR that does not end the line has no place in a reply (and would break the Reply invariant).
  if (textBytes.indexOf(CR) >= 0) return { error: 'Reply line contains a bare CR' };
  return { code, isFinal: separator === SPACE, text: utf8.decode(textBytes) };
}

/** The code and separator at the start of an over-long line, if they are well formed. */
function parseLineStart(prefix: string): { code: number; isFinal: boolean } | null {
  const match = /^([2-5][0-9]{2})([ -])/.exec(prefix);
  if (match === null) return null;
  return { code: Number(match[1]), isFinal: match[2] === ' ' };
}

/** RFC 2034 §4: an enhanced status leads the text of each line of a 2xx, 4xx or 5xx reply. */
function buildReply(code: number, lines: readonly string[]): Reply {
  const replyClass = Math.floor(code / 100);
  const first = lines[0] ?? '';
  if (replyClass === 3) return { code, enhanced: null, lines };
  const space = first.indexOf(' ');
  const candidate = space < 0 ? first : first.slice(0, space);
  if (candidate.length > 9 || !isEnhancedStatus(candidate) || Number(candidate[0]) !== replyClass) {
    return { code, enhanced: null, lines };
  }
  const enhanced: EnhancedStatus = candidate;
  const stripped = lines.map((line) => stripStatus(line, enhanced));
  return { code, enhanced, lines: stripped };
}

function stripStatus(line: string, enhanced: string): string {
  if (!line.startsWith(enhanced)) return line;
  if (line.length === enhanced.length) return '';
  return line.charCodeAt(enhanced.length) === SPACE ? line.slice(enhanced.length + 1) : line;
}
