import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { extractQueueId } from './queue-id.js';
import type { Reply } from './reply.js';
import { ReplyParser } from './reply-parser.js';

/** The reply as a client sees it: parsed from the wire, enhanced status split off by the parser. */
function parse(wire: string): Reply {
  const parser = new ReplyParser();
  parser.push(new TextEncoder().encode(wire.endsWith('\r\n') ? wire : `${wire}\r\n`));
  const result = parser.next();
  if (result === null || !result.ok) throw new Error(`test reply does not parse: ${wire}`);
  return result.value;
}

describe('extractQueueId', () => {
  // Wordings as the servers send them (Postfix smtpd.c, Exim receive.c, Sendmail srvrsmtp.c, and
  // replies recorded from Gmail, Microsoft 365, Amazon SES, Haraka).
  it.each([
    ['Postfix', '250 2.0.0 Ok: queued as 4XyZ1k2Abc', '4XyZ1k2Abc'],
    ['Postfix without enhanced codes', '250 Ok: queued as 4T2bQj1Z3Mz9', '4T2bQj1Z3Mz9'],
    ['Exim', '250 OK id=1rABCd-000123-XY', '1rABCd-000123-XY'],
    ['Sendmail', '250 2.0.0 xAB12345 Message accepted for delivery', 'xAB12345'],
    ['Sendmail (8.14+ ids)', '250 2.0.0 3AJ8nx1a012345 Message accepted for delivery', '3AJ8nx1a012345'],
    [
      'Gmail',
      '250 2.0.0 OK  1700000000 d9443c01a7336-1ccd1d5f3e1si12345pls.250 - gsmtp',
      'd9443c01a7336-1ccd1d5f3e1si12345pls.250',
    ],
    [
      'Amazon SES',
      '250 Ok 0100018c2b3a4d5e-1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d-000000',
      '0100018c2b3a4d5e-1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d-000000',
    ],
    [
      'Haraka',
      '250 Message Queued (5E3C9A8D-1F2A-4B5C-8D9E-0A1B2C3D4E5F.1.1)',
      '5E3C9A8D-1F2A-4B5C-8D9E-0A1B2C3D4E5F.1.1',
    ],
    ['smtp serve', '250 2.0.0 Queued as 3f9a1c.1', '3f9a1c.1'],
    ['apps/server', '250 2.0.0 Queued as 01HQ3V5N2K8XJ4M7P9R2T6W8YZ', '01HQ3V5N2K8XJ4M7P9R2T6W8YZ'],
    ['an aiosmtpd handler', '250 OK queued as AIO1', 'AIO1'],
    ['a sentence ending in a dot', '250 Message queued as ABC123.', 'ABC123'],
    ['an id in angle brackets', '250 2.0.0 Ok: queued as <A1B2C3>', 'A1B2C3'],
  ])('%s: %s', (_server, wire, expected) => {
    expect(extractQueueId(parse(wire))).toBe(expected);
  });

  it('finds the id on any line of a multiline reply', () => {
    expect(extractQueueId(parse('250-2.0.0 Thanks\r\n250 2.0.0 Ok: queued as 9F1E2D'))).toBe('9F1E2D');
  });

  it('reads a reply built without a parser, enhanced status still in the text', () => {
    const reply: Reply = { code: 250, enhanced: null, lines: ['2.0.0 Ok: queued as 4XyZ1k2Abc'] };
    expect(extractQueueId(reply)).toBe('4XyZ1k2Abc');
  });

  it.each([
    [
      'Microsoft 365',
      '250 2.6.0 <abc@mail.example> [InternalId=123456789, Hostname=AM0PR01MB1234.eurprd01.prod.outlook.com] 1234 bytes in 0.123, 10.0 KB/sec Queued mail for delivery',
    ],
    ['@smtp/server default', '250 2.0.0 Message accepted'],
    ['aiosmtpd default', '250 OK'],
    ['Sendmail wording without an id', '250 2.0.0 Message accepted for delivery'],
    ['Gmail without the gsmtp marker', '250 2.0.0 OK 1700000000 something'],
    ['qmail', '250 ok 1700000000 qp 12345'],
    ['an empty queue id', '250 Ok: queued as'],
  ])('%s names no id: %s', (_server, wire) => {
    expect(extractQueueId(parse(wire))).toBeUndefined();
  });

  it('is undefined for anything but a 2xx', () => {
    expect(extractQueueId(parse('451 4.3.0 Ok: queued as 4XyZ1k2Abc'))).toBeUndefined();
    expect(extractQueueId(parse('554 5.7.1 id=1rABCd-000123-XY rejected'))).toBeUndefined();
    expect(extractQueueId({ code: 354, enhanced: null, lines: ['queued as X1'] })).toBeUndefined();
  });

  it('refuses ids too long to be one', () => {
    expect(extractQueueId(parse(`250 Ok: queued as ${'A'.repeat(129)}`))).toBeUndefined();
    expect(extractQueueId(parse(`250 Ok: queued as ${'A'.repeat(128)}`))).toBe('A'.repeat(128));
  });

  it('does not throw on malformed input from untyped callers', () => {
    for (const value of [null, undefined, 42, {}, { code: 250 }, { code: 250, lines: [1, null] }]) {
      expect(extractQueueId(value as unknown as Reply)).toBeUndefined();
    }
  });

  test.prop([fc.integer({ min: 200, max: 299 }), fc.array(fc.string({ maxLength: 300 }), { maxLength: 4 })])(
    'never throws; an id found is a whitespace-free part of the reply text',
    (code, lines) => {
      const id = extractQueueId({ code, enhanced: null, lines });
      if (id === undefined) return;
      expect(id).toMatch(/^[!-~]{1,128}$/);
      expect(lines.some((line) => line.includes(id))).toBe(true);
    },
  );

  test.prop([fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,40}[A-Za-z0-9]$/)])(
    'recovers any Postfix-style id it is given',
    (id) => {
      expect(extractQueueId(parse(`250 2.0.0 Ok: queued as ${id}`))).toBe(id);
    },
  );
});
