import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { SmtpUsageError } from '../errors.js';
import { createReply } from './create-reply.js';
import type { EnhancedStatus, Reply } from './reply.js';
import { replies } from './reply-catalog.js';
import { ReplyParser } from './reply-parser.js';
import { serializeReply } from './serialize-reply.js';

const encoder = new TextEncoder();

function parseOne(wire: string): Reply {
  const parser = new ReplyParser();
  parser.push(encoder.encode(wire));
  const result = parser.next();
  if (result === null || !result.ok) throw new Error(`did not parse: ${JSON.stringify(result)}`);
  expect(parser.next()).toBeNull();
  return result.value;
}

const words = (lines: readonly string[]) =>
  lines
    .join(' ')
    .split(' ')
    .filter((word) => word !== '');

describe('serializeReply', () => {
  it('writes a single-line reply with its enhanced status (RFC 2034 §4)', () => {
    expect(serializeReply(createReply(replies.senderOk))).toBe('250 2.1.0 Sender OK\r\n');
  });

  it('writes continuation lines with a hyphen and the status on every line', () => {
    const reply = createReply({ code: 550, enhanced: '5.1.1', text: ['No such user', 'here'] });
    expect(serializeReply(reply)).toBe('550-5.1.1 No such user\r\n550 5.1.1 here\r\n');
  });

  it('writes the EHLO reply of RFC 5321 Appendix D.1 unchanged', () => {
    const reply = createReply({
      code: 250,
      text: ['foo.com greets bar.com', '8BITMIME', 'SIZE', 'DSN', 'HELP'],
    });
    expect(serializeReply(reply)).toBe(
      '250-foo.com greets bar.com\r\n250-8BITMIME\r\n250-SIZE\r\n250-DSN\r\n250 HELP\r\n',
    );
  });

  it('writes 3xx replies without a status and empty text as the bare code', () => {
    expect(serializeReply(createReply(replies.startMailInput))).toBe(
      '354 End data with <CR><LF>.<CR><LF>\r\n',
    );
    expect(serializeReply({ code: 250, enhanced: null, lines: [''] })).toBe('250\r\n');
    expect(serializeReply({ code: 250, enhanced: null, lines: ['', ''] })).toBe('250-\r\n250\r\n');
    expect(serializeReply({ code: 250, enhanced: '2.0.0', lines: [''] })).toBe('250 2.0.0\r\n');
  });

  it('folds long text at spaces so no line exceeds maxLineBytes, CRLF included', () => {
    const text = Array.from({ length: 40 }, (_, index) => `word${index}`).join(' ');
    const wire = serializeReply(createReply({ code: 550, enhanced: '5.7.1', text }), { maxLineBytes: 40 });
    const lines = wire.split('\r\n').slice(0, -1);
    expect(lines.length).toBeGreaterThan(1);
    for (const line of lines) expect(encoder.encode(`${line}\r\n`).length).toBeLessThanOrEqual(40);
    expect(lines.slice(0, -1).every((line) => line.startsWith('550-5.7.1 '))).toBe(true);
    expect(lines.at(-1)?.startsWith('550 5.7.1 ')).toBe(true);
    expect(words(parseOne(wire).lines)).toEqual(words([text]));
  });

  it('splits a word longer than a line hard, without splitting a UTF-8 sequence', () => {
    const text = '😀'.repeat(30);
    const wire = serializeReply(createReply({ code: 250, text }), { maxLineBytes: 20 });
    for (const line of wire.split('\r\n').slice(0, -1))
      expect(encoder.encode(`${line}\r\n`).length).toBeLessThanOrEqual(20);
    expect(parseOne(wire).lines.join('')).toBe(text);
  });

  it('refuses lines containing CR or LF, bad codes and a limit with no room for text', () => {
    expect(() => serializeReply({ code: 250, enhanced: null, lines: ['a\r\nb'] })).toThrow(SmtpUsageError);
    expect(() => serializeReply({ code: 99, enhanced: null, lines: ['a'] })).toThrow(SmtpUsageError);
    expect(() =>
      serializeReply({ code: 250, enhanced: '2.0.0', lines: ['a'] }, { maxLineBytes: 12 }),
    ).toThrow(SmtpUsageError);
  });

  test.prop([fc.constantFrom(...Object.values(replies))])(
    'every catalogue reply parses back to itself',
    (init) => {
      const reply = createReply(init);
      expect(parseOne(serializeReply(reply))).toEqual(reply);
    },
  );

  const wordArbitrary = fc.string({
    unit: fc.constantFrom('a', 'b', 'é', '😀', '<', '>', '@', '.'),
    minLength: 1,
    maxLength: 12,
  });
  const textArbitrary = fc
    .array(fc.tuple(wordArbitrary, fc.constantFrom(' ', '  ')), { maxLength: 30 })
    .map((parts) =>
      parts
        .map(([word, space]) => word + space)
        .join('')
        .trim(),
    );
  const replyArbitrary = fc
    .tuple(
      fc.integer({ min: 200, max: 599 }),
      fc.boolean(),
      fc.nat(999),
      fc.nat(999),
      fc.array(textArbitrary, { minLength: 1, maxLength: 3 }),
    )
    .map(([code, hasStatus, subject, detail, lines]): Reply => {
      const replyClass = Math.floor(code / 100);
      const enhanced =
        hasStatus && replyClass !== 3 ? (`${replyClass}.${subject}.${detail}` as EnhancedStatus) : null;
      return { code, enhanced, lines };
    });

  test.prop([replyArbitrary, fc.integer({ min: 64, max: 600 })])(
    'parse(serialize(r)) gives back the code, the enhanced status and the same words, within the line limit',
    (reply, maxLineBytes) => {
      const wire = serializeReply(reply, { maxLineBytes });
      for (const line of wire.split('\r\n').slice(0, -1)) {
        expect(encoder.encode(`${line}\r\n`).length).toBeLessThanOrEqual(maxLineBytes);
      }
      const parsed = parseOne(wire);
      expect(parsed.code).toBe(reply.code);
      expect(parsed.enhanced).toBe(reply.enhanced);
      expect(words(parsed.lines)).toEqual(words(reply.lines));
    },
  );
});
