import { SmtpUsageError } from '../errors.js';
import type { Reply } from './reply.js';

export interface SerializeReplyOptions {
  /** Longest line written, CRLF included. RFC 5321 §4.5.3.1.5: 512. */
  readonly maxLineBytes?: number;
}

/**
 * The wire form of a reply, CRLFs included (RFC 5321 §4.2.1): `250-first` … `250 last`. A non-null
 * enhanced status leads the text of every line (RFC 2034 §4). A line longer than `maxLineBytes` is
 * folded at spaces into more lines of the same reply, or split hard when a word alone is too long.
 * An empty final line is the bare code (`250`), as the grammar allows.
 */
export function serializeReply(reply: Reply, options: SerializeReplyOptions = {}): string {
  const { maxLineBytes = 512 } = options;
  const { code, enhanced } = reply;
  if (!Number.isInteger(code) || code < 200 || code > 599) {
    throw new SmtpUsageError(`Reply code must be an integer from 200 to 599, got ${code}`);
  }
  const prefix = enhanced === null ? '' : `${enhanced} `;
  // code + separator + status + CRLF; the rest is for text, counted in UTF-8 bytes.
  const textBytes = maxLineBytes - 3 - 1 - prefix.length - 2;
  if (!Number.isInteger(maxLineBytes) || textBytes < 4) {
    throw new SmtpUsageError(`maxLineBytes ${maxLineBytes} leaves no room for reply text`);
  }
  const texts: string[] = [];
  for (const line of reply.lines) {
    if (line.includes('\r') || line.includes('\n'))
      throw new SmtpUsageError('Reply lines must not contain CR or LF');
    fold(line, textBytes, texts);
  }
  if (texts.length === 0) texts.push('');
  let output = '';
  const last = texts.length - 1;
  for (let index = 0; index <= last; index += 1) {
    const text = texts[index] as string;
    const separator = index === last ? ' ' : '-';
    const body = enhanced === null ? text : text === '' ? enhanced : prefix + text;
    output +=
      body === '' ? (index === last ? `${code}\r\n` : `${code}-\r\n`) : `${code}${separator}${body}\r\n`;
  }
  return output;
}

/** Appends `text` to `into` as lines of at most `maxBytes` UTF-8 bytes, broken at spaces where possible. */
function fold(text: string, maxBytes: number, into: string[]): void {
  let rest = text;
  // Every UTF-16 unit is at most 3 UTF-8 bytes: short text needs no counting.
  while (rest.length * 3 > maxBytes && utf8Length(rest) > maxBytes) {
    const cut = fittingLength(rest, maxBytes);
    const space = rest.lastIndexOf(' ', cut);
    if (space > 0) {
      into.push(rest.slice(0, space));
      rest = rest.slice(space + 1);
    } else {
      into.push(rest.slice(0, cut));
      rest = rest.slice(cut);
    }
  }
  into.push(rest);
}

function utf8Length(text: string): number {
  let bytes = 0;
  for (let index = 0; index < text.length; index += 1) bytes += unitBytes(text, index);
  return bytes;
}

/** UTF-8 bytes contributed by the UTF-16 unit at `index` (a surrogate pair counts 4 on its high half). */
function unitBytes(text: string, index: number): number {
  const unit = text.charCodeAt(index);
  if (unit < 0x80) return 1;
  if (unit < 0x800) return 2;
  if (unit >= 0xd800 && unit <= 0xdbff) {
    const low = text.charCodeAt(index + 1);
    return low >= 0xdc00 && low <= 0xdfff ? 4 : 3;
  }
  if (unit >= 0xdc00 && unit <= 0xdfff) {
    const high = text.charCodeAt(index - 1);
    return high >= 0xd800 && high <= 0xdbff ? 0 : 3;
  }
  return 3;
}

/** The longest prefix of `text`, in UTF-16 units, that fits `maxBytes` without splitting a surrogate pair. */
function fittingLength(text: string, maxBytes: number): number {
  let bytes = 0;
  let index = 0;
  while (index < text.length) {
    const unit = text.charCodeAt(index);
    const isPair = unit >= 0xd800 && unit <= 0xdbff && unitBytes(text, index) === 4;
    const size = isPair ? 4 : unitBytes(text, index);
    if (bytes + size > maxBytes) break;
    bytes += size;
    index += isPair ? 2 : 1;
  }
  return index;
}
