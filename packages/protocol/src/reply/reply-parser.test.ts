import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { SmtpUsageError } from '../errors.js';
import type { EnhancedStatus, Reply } from './reply.js';
import { type ReplyParseResult, ReplyParser, type ReplyParserOptions } from './reply-parser.js';
import { serializeReply } from './serialize-reply.js';

const encoder = new TextEncoder();

function bytesOf(text: string): Uint8Array {
  // Latin-1 so tests can write any byte as \xNN.
  return Uint8Array.from(text, (character) => character.charCodeAt(0));
}

/** Pushes `bytes` cut at `cuts` (offsets, any order), draining after each chunk as callers must. */
function parseSplit(
  bytes: Uint8Array,
  cuts: readonly number[],
  options?: ReplyParserOptions,
): ReplyParseResult[] {
  const parser = new ReplyParser(options);
  const offsets = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  const results: ReplyParseResult[] = [];
  let start = 0;
  for (const end of [...offsets, bytes.length]) {
    parser.push(bytes.subarray(start, end));
    start = end;
    for (let result = parser.next(); result !== null; result = parser.next()) results.push(result);
  }
  return results;
}

function parseAll(text: string, options?: ReplyParserOptions): ReplyParseResult[] {
  return parseSplit(bytesOf(text), [], options);
}

function reply(code: number, lines: string[], enhanced: EnhancedStatus | null = null): ReplyParseResult {
  return { ok: true, value: { code, enhanced, lines } };
}

describe('ReplyParser', () => {
  it('parses the multi-line EHLO reply of RFC 5321 Appendix D.1', () => {
    const text = '250-foo.com greets bar.com\r\n250-8BITMIME\r\n250-SIZE\r\n250-DSN\r\n250 HELP\r\n';
    expect(parseAll(text)).toEqual([
      reply(250, ['foo.com greets bar.com', '8BITMIME', 'SIZE', 'DSN', 'HELP']),
    ]);
  });

  it('parses several replies in one chunk, in order', () => {
    expect(
      parseAll('220 foo.com Simple Mail Transfer Service Ready\r\n250 OK\r\n354 Start mail input\r\n'),
    ).toEqual([
      reply(220, ['foo.com Simple Mail Transfer Service Ready']),
      reply(250, ['OK']),
      reply(354, ['Start mail input']),
    ]);
  });

  it('returns null until the final line has arrived', () => {
    const parser = new ReplyParser();
    parser.push(bytesOf('250-first\r\n250 sec'));
    expect(parser.next()).toBeNull();
    parser.push(bytesOf('ond\r'));
    expect(parser.next()).toBeNull();
    parser.push(bytesOf('\n'));
    expect(parser.next()).toEqual(reply(250, ['first', 'second']));
    expect(parser.next()).toBeNull();
    expect(parser.bufferedBytes).toBe(0);
  });

  it('accepts a bare code and empty text (RFC 5321 §4.2: the text is optional)', () => {
    expect(parseAll('250\r\n250-\r\n250 \r\n')).toEqual([reply(250, ['']), reply(250, ['', ''])]);
  });

  it('accepts bare LF line endings', () => {
    expect(parseAll('250-a\n250 b\n221 bye\r\n')).toEqual([reply(250, ['a', 'b']), reply(221, ['bye'])]);
  });

  it('keeps UTF-8 text (RFC 6531) and spaces inside the text', () => {
    expect(parseAll(String.fromCharCode(...encoder.encode('250 ok  für dich \r\n')))).toEqual([
      reply(250, ['ok  für dich ']),
    ]);
  });

  describe('enhanced status codes (RFC 2034 §4)', () => {
    it('strips the status from every line and reports it once', () => {
      expect(
        parseAll('550-5.1.1 The email account that you tried to reach\r\n550 5.1.1 does not exist\r\n'),
      ).toEqual([reply(550, ['The email account that you tried to reach', 'does not exist'], '5.1.1')]);
    });
    it('recognises a status that is the whole text', () => {
      expect(parseAll('250 2.0.0\r\n')).toEqual([reply(250, [''], '2.0.0')]);
    });
    it('accepts multi-digit subject and detail', () => {
      expect(
        parseAll('535 5.7.8 Authentication credentials invalid\r\n538 5.7.11 Encryption required\r\n'),
      ).toEqual([
        reply(535, ['Authentication credentials invalid'], '5.7.8'),
        reply(538, ['Encryption required'], '5.7.11'),
      ]);
    });
    it('ignores a status whose class differs from the code', () => {
      expect(parseAll('250 5.1.1 odd\r\n')).toEqual([reply(250, ['5.1.1 odd'])]);
    });
    it('ignores a status on a 3xx reply', () => {
      expect(parseAll('354 3.0.0 go ahead\r\n')).toEqual([reply(354, ['3.0.0 go ahead'])]);
    });
    it('ignores what only looks like a status', () => {
      expect(parseAll('250 2.0.0.1 x\r\n250 2.0 x\r\n250 2.1234.0 x\r\n250 2.0.0x\r\n')).toEqual([
        reply(250, ['2.0.0.1 x']),
        reply(250, ['2.0 x']),
        reply(250, ['2.1234.0 x']),
        reply(250, ['2.0.0x']),
      ]);
    });
    it('leaves lines that lack the status untouched', () => {
      expect(parseAll('250-2.0.0 a\r\n250 b\r\n')).toEqual([reply(250, ['a', 'b'], '2.0.0')]);
    });
  });

  describe('malformed input', () => {
    it('reports a line without a proper code and carries on', () => {
      const results = parseAll('25 short\r\nabc\r\n150 low\r\n2x0 bad\r\n250 ok\r\n');
      expect(results.map((result) => result.ok)).toEqual([false, false, false, false, true]);
      expect(results[0]).toMatchObject({ ok: false, line: '25 short' });
      expect(results[4]).toEqual(reply(250, ['ok']));
    });
    it('reports a code not followed by space, hyphen or the line end', () => {
      expect(parseAll('2500 four digits\r\n250x\r\n250 ok\r\n')).toEqual([
        { ok: false, error: expect.stringContaining('space'), line: '2500 four digits' },
        { ok: false, error: expect.stringContaining('space'), line: '250x' },
        reply(250, ['ok']),
      ]);
    });
    it('reports a bare CR inside a line', () => {
      const results = parseAll('250 a\rb\r\n250 ok\r\n');
      expect(results[0]).toMatchObject({ ok: false, error: expect.stringContaining('CR') });
      expect(results[1]).toEqual(reply(250, ['ok']));
    });
    it('reports a multi-line reply whose codes disagree, and starts over with the odd line', () => {
      const results = parseAll('250-a\r\n251 b\r\n');
      expect(results).toEqual([
        { ok: false, error: expect.stringContaining('251'), line: '251 b' },
        reply(251, ['b']),
      ]);
    });
    it('drops a partial reply interrupted by a malformed line', () => {
      expect(parseAll('250-a\r\nnonsense\r\n250 b\r\n').map((result) => result.ok)).toEqual([false, true]);
    });
  });

  describe('limits', () => {
    it('accepts a line of exactly maxLineBytes, CRLF included, or with a bare LF', () => {
      const text = `250 ${'x'.repeat(10)}`; // 14 bytes + CRLF = 16
      expect(parseAll(`${text}\r\n`, { maxLineBytes: 16 })).toEqual([reply(250, ['x'.repeat(10)])]);
      expect(parseAll(`${text}\n`, { maxLineBytes: 16 })).toEqual([reply(250, ['x'.repeat(10)])]);
      expect(parseAll(`${text}x\r\n`, { maxLineBytes: 16 })[0]?.ok).toBe(false);
      expect(parseAll(`${text}x\n`, { maxLineBytes: 16 })[0]?.ok).toBe(false);
    });

    it('reports an over-long line as soon as it is known, without buffering it', () => {
      const parser = new ReplyParser({ maxLineBytes: 16 });
      parser.push(bytesOf(`250 ${'x'.repeat(100)}`));
      expect(parser.next()).toEqual({
        ok: false,
        error: 'Reply line longer than 16 bytes',
        line: `250 ${'x'.repeat(10)}`,
      });
      expect(parser.bufferedBytes).toBe(0);
      parser.push(bytesOf('x'.repeat(1000)));
      expect(parser.next()).toBeNull();
      expect(parser.bufferedBytes).toBe(0);
      parser.push(bytesOf('yy\r\n250 ok\r\n'));
      expect(parser.next()).toEqual(reply(250, ['ok']));
    });

    it('skips the rest of a multi-line reply after an over-long line: one result per reply', () => {
      const results = parseAll(`250-a\r\n250-${'x'.repeat(40)}\r\n250-b\r\n250 c\r\n221 bye\r\n`, {
        maxLineBytes: 16,
      });
      expect(results.map((result) => result.ok)).toEqual([false, true]);
      expect(results[1]).toEqual(reply(221, ['bye']));
    });

    it('reports a reply with several over-long lines once', () => {
      const long = 'x'.repeat(40);
      const results = parseAll(`250-${long}\r\n250-${long}\r\n250 ${long}\r\n250 ok\r\n`, {
        maxLineBytes: 16,
      });
      expect(results.map((result) => result.ok)).toEqual([false, true]);
    });

    it('stops a reply at maxLines and skips the rest of it', () => {
      const results = parseAll('250-a\r\n250-b\r\n250 c\r\n250-d\r\n250 e\r\n', { maxLines: 2 });
      expect(results).toEqual([
        { ok: false, error: 'Reply has more than 2 lines', line: '250-b' },
        reply(250, ['d', 'e']),
      ]);
    });

    it('throws SmtpUsageError on unusable options', () => {
      expect(() => new ReplyParser({ maxLineBytes: 4 })).toThrow(SmtpUsageError);
      expect(() => new ReplyParser({ maxLines: 0 })).toThrow(SmtpUsageError);
    });
  });

  // Properties

  const textArbitrary = fc
    .string({ unit: fc.constantFrom('a', 'Z', '0', '9', '.', ' ', '-', 'é', '✓', '😀'), maxLength: 30 })
    .filter((text) => !/^[245]\.\d{1,3}\.\d{1,3}( |$)/.test(text));
  const replyArbitrary: fc.Arbitrary<Reply> = fc
    .tuple(
      fc.integer({ min: 200, max: 599 }),
      fc.boolean(),
      fc.nat(999),
      fc.nat(999),
      fc.array(textArbitrary, { minLength: 1, maxLength: 5 }),
    )
    .map(([code, hasStatus, subject, detail, lines]) => {
      const replyClass = Math.floor(code / 100);
      const enhanced: EnhancedStatus | null =
        hasStatus && replyClass !== 3 ? (`${replyClass}.${subject}.${detail}` as EnhancedStatus) : null;
      return { code, enhanced, lines };
    });
  const cutsArbitrary = fc.array(fc.nat(), { maxLength: 12 });

  test.prop([fc.array(replyArbitrary, { maxLength: 5 }), cutsArbitrary])(
    'parses serialized replies back, however the stream is split',
    (replies, cuts) => {
      const bytes = encoder.encode(replies.map((value) => serializeReply(value)).join(''));
      const expected = replies.map((value) => ({ ok: true, value }));
      expect(parseSplit(bytes, cuts)).toEqual(expected);
      const everyByte = Array.from({ length: bytes.length }, (_, index) => index);
      expect(parseSplit(bytes, everyByte)).toEqual(expected);
    },
  );

  // Streams rich in the bytes that matter, so every path of the parser is reached.
  const streamArbitrary = fc
    .array(
      fc.constantFrom(
        '250',
        '354',
        '550',
        '25',
        ' ',
        '-',
        '\r',
        '\n',
        '\r\n',
        'x',
        '2.0.0 ',
        '5.1.1',
        '\xc3',
        '\xff',
      ),
      {
        maxLength: 60,
      },
    )
    .map((parts) => bytesOf(parts.join('')));
  const optionsArbitrary = fc.record({
    maxLineBytes: fc.constantFrom(8, 9, 12, 20, 4096),
    maxLines: fc.constantFrom(1, 2, 3, 1000),
  });

  test.prop([streamArbitrary, cutsArbitrary, optionsArbitrary])(
    'gives the same results, errors included, for any split',
    (bytes, cuts, options) => {
      const whole = parseSplit(bytes, [], options);
      expect(parseSplit(bytes, cuts, options)).toEqual(whole);
      const everyByte = Array.from({ length: bytes.length }, (_, index) => index);
      expect(parseSplit(bytes, everyByte, options)).toEqual(whole);
    },
  );

  test.prop([
    fc.array(fc.oneof(fc.uint8Array({ maxLength: 200 }), streamArbitrary), { maxLength: 8 }),
    optionsArbitrary,
  ])(
    'never throws on arbitrary bytes and keeps bufferedBytes within maxLineBytes plus one chunk',
    (chunks, options) => {
      const parser = new ReplyParser(options);
      for (const chunk of chunks) {
        parser.push(chunk);
        expect(parser.bufferedBytes).toBeLessThanOrEqual(options.maxLineBytes + chunk.length);
        for (let result = parser.next(); result !== null; result = parser.next()) {
          if (result.ok) expect(result.value.lines.every((line) => !/[\r\n]/.test(line))).toBe(true);
        }
        expect(parser.bufferedBytes).toBeLessThan(options.maxLineBytes);
      }
    },
  );
});
