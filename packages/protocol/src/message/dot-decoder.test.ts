import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { type DotDecodeResult, DotDecoder, type DotDecoderOptions } from './dot-decoder.js';
import { DotEncoder } from './dot-encoder.js';

const toBytes = (text: string): Uint8Array => Uint8Array.from(text, (character) => character.charCodeAt(0));
const toText = (bytes: Uint8Array): string => {
  let text = '';
  for (let start = 0; start < bytes.length; start += 4096) {
    text += String.fromCharCode(...bytes.subarray(start, start + 4096));
  }
  return text;
};
const join = (parts: readonly Uint8Array[]): string => parts.map(toText).join('');

interface Decoded {
  content: string;
  ended: boolean;
  consumedBytes: number;
  violation: DotDecodeResult['violation'];
}

/** Feeds `stream` split at `cuts` (positions, any order), stopping at the end of the data like a session. */
function decodeSplit(stream: Uint8Array, cuts: readonly number[], options: DotDecoderOptions = {}): Decoded {
  const decoder = new DotDecoder(options);
  const points = [...new Set(cuts.map((cut) => cut % (stream.length + 1)))].sort((a, b) => a - b);
  const bounds = [0, ...points, stream.length];
  let content = '';
  let consumedBytes = 0;
  let last: DotDecodeResult | null = null;
  for (let index = 0; index + 1 < bounds.length; index++) {
    const chunk = stream.subarray(bounds[index], bounds[index + 1]);
    last = decoder.decode(chunk);
    content += join(last.output);
    consumedBytes += last.consumedBytes;
    if (last.ended) break;
    expect(last.consumedBytes).toBe(chunk.length);
  }
  return { content, ended: last?.ended ?? false, consumedBytes, violation: last?.violation ?? null };
}

const decodeWhole = (text: string, options: DotDecoderOptions = {}): Decoded =>
  decodeSplit(toBytes(text), [], options);
const decodeByteByByte = (text: string, options: DotDecoderOptions = {}): Decoded =>
  decodeSplit(
    toBytes(text),
    Array.from({ length: text.length }, (_, index) => index),
    options,
  );

/**
 * The rules written as plainly as possible, to check the streaming decoder against:
 * the data ends at the first CR LF "." CR LF, counting the start as if after CR LF (RFC 5321 §4.1.1.4);
 * every line (ended by CRLF, bare CR or bare LF) loses one leading dot (§4.5.2).
 */
function referenceDecode(stream: string, options: DotDecoderOptions = {}): Decoded {
  const normalize = options.bareLineEndings === 'normalize';
  const maxLineBytes = options.maxLineBytes ?? 0;
  const terminatorIndex = `\r\n${stream}`.indexOf('\r\n.\r\n');
  const ended = terminatorIndex >= 0;
  const body = ended ? stream.slice(0, terminatorIndex) : stream;
  let content = '';
  let violation: Decoded['violation'] = null;
  for (const [, text = '', ending = ''] of body.matchAll(/([^\r\n]*)(\r\n|\r|\n|$)/g)) {
    if (text === '' && ending === '') continue;
    const line = text.startsWith('.') ? text.slice(1) : text;
    content += line + (normalize && ending !== '' ? '\r\n' : ending);
    if (violation === null && maxLineBytes > 0 && line.length + ending.length > maxLineBytes) {
      violation = 'line-too-long';
    }
    if (violation === null && !normalize && (ending === '\r' || ending === '\n'))
      violation = 'bare-line-ending';
  }
  return { content, ended, consumedBytes: ended ? terminatorIndex + 3 : stream.length, violation };
}

describe('DotDecoder', () => {
  it('decodes a message, keeping the CRLF before the terminator', () => {
    expect(decodeWhole('Subject: hi\r\n\r\nbody\r\n.\r\n')).toEqual({
      content: 'Subject: hi\r\n\r\nbody\r\n',
      ended: true,
      consumedBytes: 24,
      violation: null,
    });
  });

  it('treats the start of the data as the start of a line: ".\\r\\n" first is an empty message', () => {
    expect(decodeWhole('.\r\n')).toEqual({ content: '', ended: true, consumedBytes: 3, violation: null });
  });

  it('removes one leading dot per line (RFC 5321 §4.5.2)', () => {
    expect(decodeWhole('..\r\n...x\r\na.b\r\n.y\r\n.\r\n').content).toBe('.\r\n..x\r\na.b\r\ny\r\n');
  });

  it('leaves the bytes after the terminator unconsumed (pipelined next command)', () => {
    const result = new DotDecoder().decode(toBytes('a\r\n.\r\nQUIT\r\n'));
    expect(result.ended).toBe(true);
    expect(result.consumedBytes).toBe(6);
    expect(join(result.output)).toBe('a\r\n');
  });

  it('returns views into the chunk in the common case', () => {
    const chunk = toBytes('line one\r\nline two\r\n');
    const { output } = new DotDecoder().decode(chunk);
    expect(output).toHaveLength(1);
    expect(output[0]?.buffer).toBe(chunk.buffer);
  });

  it('consumes nothing once ended', () => {
    const decoder = new DotDecoder();
    expect(decoder.decode(toBytes('.\r\n')).ended).toBe(true);
    expect(decoder.decode(toBytes('more'))).toEqual({
      output: [],
      ended: true,
      consumedBytes: 0,
      violation: null,
    });
  });

  describe.each([
    ['after CR', ['a\r', '\n.\r\n']],
    ['after CRLF', ['a\r\n', '.\r\n']],
    ['after CRLF dot', ['a\r\n.', '\r\n']],
    ['after CRLF dot CR', ['a\r\n.', '\r', '\n']],
    ['inside a stuffed dot line', ['a\r\n.', '.b\r\n.\r\n']],
  ])('state across a chunk boundary %s', (_, parts) => {
    it('gives the same result as one chunk', () => {
      const decoder = new DotDecoder();
      let content = '';
      let ended = false;
      for (const part of parts) {
        const result = decoder.decode(toBytes(part));
        content += join(result.output);
        ended = result.ended;
      }
      expect({ content, ended }).toEqual({
        content: decodeWhole(parts.join('')).content,
        ended: true,
      });
    });
  });

  // CVE-2023-51764 (Postfix), CVE-2023-51765 (Sendmail), CVE-2023-51766 (Exim): SMTP smuggling.
  const smugglingVectors = [
    '\n.\n',
    '\n.\r\n',
    '\r.\r',
    '\r.\r\n',
    '\r\n.\n',
    '\r\n.\r',
    '\r\n.\rX',
    '\n.\r',
    '\r\n\x00.\r\n',
    '\r\n .\r\n',
    '\r\n.\r\r\n',
    '\r\r\n.\n',
  ];
  describe.each(smugglingVectors)('smuggling vector %j', (vector) => {
    const stream = `hello${vector}MAIL FROM:<evil@example.com>\r\nRCPT TO:<victim@example.com>\r\nDATA\r\n`;
    for (const bareLineEndings of ['reject', 'normalize'] as const) {
      it(`never ends the data (${bareLineEndings})`, () => {
        for (const decode of [decodeWhole, decodeByteByByte]) {
          const result = decode(stream, { bareLineEndings });
          expect(result.ended).toBe(false);
          expect(result.consumedBytes).toBe(stream.length);
          expect(result.content).toContain('MAIL FROM:<evil@example.com>');
        }
      });
    }
    it('is a violation when rejecting bare line endings, where it has one', () => {
      const hasBare = /\r(?!\n)|(?<!\r)\n/.test(vector);
      expect(decodeWhole(stream).violation).toBe(hasBare ? 'bare-line-ending' : null);
      expect(decodeByteByByte(stream).violation).toBe(hasBare ? 'bare-line-ending' : null);
    });
  });

  it('normalises bare line endings to CRLF, unstuffing dots after them', () => {
    const result = decodeWhole('a\nb\rc\r\n.\n..d\r\n.\r\n', { bareLineEndings: 'normalize' });
    expect(result).toEqual({
      content: 'a\r\nb\r\nc\r\n\r\n.d\r\n',
      ended: true,
      consumedBytes: 17,
      violation: null,
    });
  });

  it('keeps bare line endings as they are when rejecting, and ends only at CRLF.CRLF', () => {
    const result = decodeWhole('a\nb\rc\r\n.\r\n');
    expect(result).toEqual({
      content: 'a\nb\rc\r\n',
      ended: true,
      consumedBytes: 10,
      violation: 'bare-line-ending',
    });
  });

  describe('maxLineBytes (line ending included, stuffing dot excluded)', () => {
    it('accepts a line of exactly the limit', () => {
      expect(decodeWhole(`${'x'.repeat(8)}\r\n.\r\n`, { maxLineBytes: 10 }).violation).toBeNull();
      expect(decodeWhole(`.${'x'.repeat(8)}\r\n.\r\n`, { maxLineBytes: 10 }).violation).toBeNull();
    });
    it('flags a longer line', () => {
      expect(decodeWhole(`${'x'.repeat(9)}\r\n.\r\n`, { maxLineBytes: 10 }).violation).toBe('line-too-long');
    });
    it('flags a line without end as soon as it is too long, without buffering it', () => {
      const decoder = new DotDecoder({ maxLineBytes: 1000 });
      const result = decoder.decode(new Uint8Array(5000).fill(0x61));
      expect(result.violation).toBe('line-too-long');
      expect(result.consumedBytes).toBe(5000);
    });
    it('reports the first violation and keeps it', () => {
      expect(decodeWhole(`a\n${'x'.repeat(20)}\r\n.\r\n`, { maxLineBytes: 10 }).violation).toBe(
        'bare-line-ending',
      );
      expect(decodeWhole(`${'x'.repeat(20)}\na\r\n.\r\n`, { maxLineBytes: 10 }).violation).toBe(
        'line-too-long',
      );
    });
  });

  // Streams rich in the bytes that matter.
  const streamArbitrary = fc
    .array(fc.constantFrom('\r', '\n', '.', 'a', 'b', '\r\n', '\r\n.', '..', '\r\n.\r\n', '\x00', '\xff'), {
      maxLength: 40,
    })
    .map((parts) => parts.join(''));
  const cutsArbitrary = fc.array(fc.nat(), { maxLength: 12 });
  const optionsArbitrary = fc.record({
    bareLineEndings: fc.constantFrom('reject' as const, 'normalize' as const),
    maxLineBytes: fc.constantFrom(0, 1, 2, 3, 5, 8),
  });

  test.prop([streamArbitrary, optionsArbitrary])(
    'agrees with the plain reference rules',
    (stream, options) => {
      const actual = decodeWhole(stream, options);
      const expected = referenceDecode(stream, options);
      expect(actual.ended).toBe(expected.ended);
      expect(actual.consumedBytes).toBe(expected.consumedBytes);
      if (expected.ended) {
        expect(actual.content).toBe(expected.content);
        expect(actual.violation).toBe(expected.violation);
      }
    },
  );

  test.prop([streamArbitrary, cutsArbitrary, optionsArbitrary])(
    'gives the same output, end, consumed bytes and violation for any split',
    (stream, cuts, options) => {
      const bytes = toBytes(stream);
      const whole = decodeSplit(bytes, [], options);
      expect(decodeSplit(bytes, cuts, options)).toEqual(whole);
      const everyByte = Array.from({ length: bytes.length }, (_, index) => index);
      expect(decodeSplit(bytes, everyByte, options)).toEqual(whole);
    },
  );

  const messageArbitrary = fc
    .array(fc.constantFrom('\r\n', '.', 'a', ' ', '\r', '\n', '..', '\xe9'), { maxLength: 40 })
    .map((parts) => parts.join(''));

  test.prop([messageArbitrary, cutsArbitrary, fc.string({ maxLength: 10 })])(
    'decode(encode(m)) is m with CRLF line endings, and the bytes after the terminator stay unconsumed',
    (message, cuts, after) => {
      const encoder = new DotEncoder();
      const encoded = join([...encoder.encode(toBytes(message)), encoder.end()]);
      let expected = message.replace(/\r\n|\r|\n/g, '\r\n');
      if (expected !== '' && !expected.endsWith('\r\n')) expected += '\r\n';
      const stream = toBytes(encoded + after);
      for (const bareLineEndings of ['reject', 'normalize'] as const) {
        const result = decodeSplit(stream, cuts, { bareLineEndings });
        expect(result).toEqual({
          content: expected,
          ended: true,
          consumedBytes: encoded.length,
          violation: null,
        });
      }
    },
  );

  // Long streams, so the four-bytes-at-a-time scan runs (chunks of 64 bytes and more), at every alignment.
  const longStreamArbitrary = fc
    .array(
      fc.constantFrom(
        '\r',
        '\n',
        '.',
        '\r\n',
        '\r\n.',
        '\r\n.\r\n',
        '\t',
        'x'.repeat(13),
        'y'.repeat(70),
        `${'z'.repeat(30)}\r\n`,
        '\xff',
        '\x0e', // right above the 0x0e threshold of the word scan: a possible false flag after a CR/LF
        '\x0b',
      ),
      { maxLength: 40 },
    )
    .map((parts) => parts.join(''));

  const longOptionsArbitrary = fc.record({
    bareLineEndings: fc.constantFrom('reject' as const, 'normalize' as const),
    maxLineBytes: fc.constantFrom(0, 8, 32, 71, 72, 73, 100),
  });

  test.prop([longStreamArbitrary, fc.nat({ max: 3 }), cutsArbitrary, longOptionsArbitrary])(
    'long chunks at any alignment agree with the reference and with a byte-by-byte feed',
    (stream, offset, cuts, options) => {
      const buffer = new Uint8Array(offset + stream.length);
      buffer.set(toBytes(stream), offset);
      const bytes = buffer.subarray(offset);
      const whole = decodeSplit(bytes, [], options);
      const expected = referenceDecode(stream, options);
      expect(whole.ended).toBe(expected.ended);
      expect(whole.consumedBytes).toBe(expected.consumedBytes);
      if (expected.ended) expect(whole).toEqual(expected);
      expect(decodeSplit(bytes, cuts, options)).toEqual(whole);
      const everyByte = Array.from({ length: bytes.length }, (_, index) => index);
      expect(decodeSplit(bytes, everyByte, options)).toEqual(whole);
    },
  );

  test.prop([fc.uint8Array({ maxLength: 300 }), cutsArbitrary, optionsArbitrary])(
    'never throws on arbitrary bytes',
    (bytes, cuts, options) => {
      expect(() => decodeSplit(bytes, cuts, options)).not.toThrow();
    },
  );

  it('unstuffs a dot that starts the next chunk after a CRLF that ends a long one, at any alignment', () => {
    for (let lineBytes = 62; lineBytes <= 70; lineBytes++) {
      for (const offset of [0, 1, 2, 3]) {
        const first = `${'x'.repeat(lineBytes)}\r\n`;
        const buffer = new Uint8Array(offset + first.length);
        buffer.set(toBytes(first), offset);
        const decoder = new DotDecoder({ maxLineBytes: lineBytes + 2 });
        const head = decoder.decode(buffer.subarray(offset));
        const tail = decoder.decode(toBytes('..y\r\n.\r\n'));
        expect(join([...head.output, ...tail.output])).toBe(`${first}.y\r\n`);
        expect(tail.ended).toBe(true);
        expect(tail.violation).toBe(null);
      }
    }
  });

  it('counts line lengths exactly in long chunks: the CRLF included, the stuffing dot excluded', () => {
    const limit = 72;
    const plain = `${'p'.repeat(limit - 2)}\r\n`; // exactly the limit
    const stuffed = `..${'s'.repeat(limit - 3)}\r\n`; // limit + 1 on the wire, the limit once unstuffed
    const fits = `${plain}${stuffed}${plain}`.repeat(4);
    for (const offset of [0, 1, 2, 3]) {
      for (const stream of [`${fits}.\r\n`, `${fits}${'q'.repeat(limit - 1)}\r\n${plain}.\r\n`]) {
        const buffer = new Uint8Array(offset + stream.length);
        buffer.set(toBytes(stream), offset);
        const result = new DotDecoder({ maxLineBytes: limit }).decode(buffer.subarray(offset));
        expect(result.ended).toBe(true);
        expect(result.violation).toBe(stream.includes('q') ? 'line-too-long' : null);
      }
    }
  });

  it('finds a bare CR deep inside a big chunk', () => {
    const lines = 'x'.repeat(70).concat('\r\n').repeat(2000);
    const stream = `${lines}bad\rline\r\n${lines}.\r\n`;
    const result = decodeWhole(stream);
    expect(result.violation).toBe('bare-line-ending');
    expect(result.ended).toBe(true);
    expect(result.content).toBe(`${lines}bad\rline\r\n${lines}`);
    const normalized = decodeWhole(stream, { bareLineEndings: 'normalize' });
    expect(normalized.content).toBe(`${lines}bad\r\nline\r\n${lines}`);
  });
});
