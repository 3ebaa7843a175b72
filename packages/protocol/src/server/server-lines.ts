// Small readers of a command line's bytes, for the session's error paths.

import { decodeUtf8 } from '../bytes/utf8.js';

/** The line for a command-rejected event; AUTH arguments are redacted (they carry credentials). */
export function describeLine(line: Uint8Array): string {
  const text = decodeUtf8(line.length > 512 ? line.subarray(0, 512) : line);
  if (/^auth\s/i.test(text)) {
    const words = text.split(/\s+/);
    return words.length > 2 ? `${words[0]} ${words[1]} ***` : text;
  }
  return text;
}

/** RFC 2034 §4: no enhanced status on replies to HELO/EHLO (LHLO likewise), refusals included. */
export function isHelloLine(line: Uint8Array): boolean {
  return startsWithVerb(line, 'ehlo') || startsWithVerb(line, 'helo') || startsWithVerb(line, 'lhlo');
}

/** Whether the line starts with this four-letter verb (lower case given), any case, then space or end. */
export function startsWithVerb(line: Uint8Array, verb: string): boolean {
  if (line.length < 4 || (line.length > 4 && line[4] !== 0x20)) return false;
  for (let index = 0; index < 4; index++) {
    if (((line[index] as number) | 0x20) !== verb.charCodeAt(index)) return false;
  }
  return true;
}
