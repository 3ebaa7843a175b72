import { describe, expect, test } from 'vitest';
import { MessageEncoder } from './message-encoder.js';

const text = new TextEncoder();
const decode = (pieces: readonly Uint8Array[]) => Buffer.concat(pieces).toString('latin1');

/** Encodes `message` cut at every `step` bytes. */
function encode(message: string, bodyLineLimit: number | null, step = message.length || 1): string {
  const encoder = new MessageEncoder({ bodyLineLimit });
  const bytes = text.encode(message);
  const pieces: Uint8Array[] = [];
  for (let offset = 0; offset < bytes.length; offset += step) {
    pieces.push(...encoder.encode(bytes.subarray(offset, offset + step)));
  }
  pieces.push(encoder.end());
  return decode(pieces);
}

const message = 'Subject: dots\r\nX: y\r\n\r\n.leading dot\r\nmiddle . dot\r\n..two\r\n.\r\nlast\r\n';

describe('MessageEncoder', () => {
  test('RFC 1939 §3: a line starting with "." gets one more; ".CRLF" ends the response', () => {
    expect(encode(message, null)).toBe(
      'Subject: dots\r\nX: y\r\n\r\n..leading dot\r\nmiddle . dot\r\n...two\r\n..\r\nlast\r\n.\r\n',
    );
  });

  test('every split of the input gives the same bytes', () => {
    const whole = encode(message, null);
    for (let step = 1; step < message.length; step += 1) expect(encode(message, null, step)).toBe(whole);
    const top = encode(message, 2);
    for (let step = 1; step < message.length; step += 1) expect(encode(message, 2, step)).toBe(top);
  });

  test('a message without its last line ending gets CRLF before the terminator', () => {
    expect(encode('Subject: x\r\n\r\nno ending', null)).toBe('Subject: x\r\n\r\nno ending\r\n.\r\n');
    expect(encode('Subject: x\r\n\r\nends in CR\r', null)).toBe('Subject: x\r\n\r\nends in CR\r\n.\r\n');
  });

  test('TOP n: the header, the blank line, then n body lines (RFC 1939 §7)', () => {
    expect(encode(message, 0)).toBe('Subject: dots\r\nX: y\r\n\r\n.\r\n');
    expect(encode(message, 1)).toBe('Subject: dots\r\nX: y\r\n\r\n..leading dot\r\n.\r\n');
    expect(encode(message, 3)).toBe(
      'Subject: dots\r\nX: y\r\n\r\n..leading dot\r\nmiddle . dot\r\n...two\r\n.\r\n',
    );
    expect(encode(message, 100)).toBe(encode(message, null));
  });

  test('a line holding only a CR in its middle is not the header end', () => {
    expect(encode('A: 1\r\n\rB: 2\r\n\r\nbody\r\n', 0)).toBe('A: 1\r\n\rB: 2\r\n\r\n.\r\n');
  });
});
