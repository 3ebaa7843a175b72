// Property tests for the grammar: parse(serialize(x)) deep-equals x, and no input makes a parser throw.

import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { parseDomain, parseForwardPath, parseMailbox, parseReversePath } from '../src/address/parse-path.js';
import {
  serializeDomain,
  serializeForwardPath,
  serializeMailbox,
  serializeReversePath,
} from '../src/address/serialize-path.js';
import { decodeBase64, encodeBase64 } from '../src/bytes/base64.js';
import { decodeUtf8, encodeUtf8 } from '../src/bytes/utf8.js';
import { decodeXtext, encodeXtext } from '../src/bytes/xtext.js';
import type { CommandSyntax } from '../src/command/command.js';
import { parseMailParameters, serializeMailParameters } from '../src/command/mail-parameters.js';
import { parseCommand } from '../src/command/parse-command.js';
import { parseRcptParameters, serializeRcptParameters } from '../src/command/rcpt-parameters.js';
import { serializeCommand } from '../src/command/serialize-command.js';
import { parseXclientAttributes } from '../src/proxy/xclient.js';
import {
  commandArbitrary,
  domainArbitrary,
  forwardPathArbitrary,
  mailboxArbitrary,
  mailParametersArbitrary,
  rcptParametersArbitrary,
  reversePathArbitrary,
  utf8MailboxArbitrary,
} from './arbitraries-grammar.js';

const strict: CommandSyntax = { mode: 'strict', smtpUtf8: false };
const lenient: CommandSyntax = { mode: 'lenient', smtpUtf8: false };
const strictUtf8: CommandSyntax = { mode: 'strict', smtpUtf8: true };
const syntaxArbitrary = fc.record({
  mode: fc.constantFrom('strict' as const, 'lenient' as const),
  smtpUtf8: fc.boolean(),
});

describe('round trips', () => {
  test.prop([commandArbitrary])('commands', (command) => {
    const line = serializeCommand(command);
    expect(line).not.toMatch(/[\r\n]/);
    expect(parseCommand(encodeUtf8(line))).toEqual({ ok: true, value: command });
  });

  test.prop([commandArbitrary])(
    'commands also parse the same in lenient mode, except lenient HELO names',
    (command) => {
      const result = parseCommand(encodeUtf8(serializeCommand(command)), lenient);
      // Lenient mode trims free-text arguments; everything else must be unchanged.
      if (result.ok && 'argument' in command)
        expect(result.value).toEqual({ ...command, argument: command.argument.trim() });
      else expect(result).toEqual({ ok: true, value: command });
    },
  );

  test.prop([domainArbitrary])('domains', (domain) => {
    expect(parseDomain(serializeDomain(domain), strict)).toEqual({ ok: true, value: domain });
  });

  test.prop([mailboxArbitrary])('mailboxes', (mailbox) => {
    expect(parseMailbox(serializeMailbox(mailbox), strict)).toEqual({ ok: true, value: mailbox });
  });

  test.prop([utf8MailboxArbitrary])('UTF-8 mailboxes under SMTPUTF8', (mailbox) => {
    expect(parseMailbox(serializeMailbox(mailbox), strictUtf8)).toEqual({ ok: true, value: mailbox });
    const line = `MAIL FROM:${serializeReversePath(mailbox)} SMTPUTF8`;
    expect(parseCommand(encodeUtf8(line), strictUtf8)).toEqual({
      ok: true,
      value: { verb: 'MAIL', from: mailbox, parameters: { smtpUtf8: true, unknown: [] } },
    });
  });

  test.prop([reversePathArbitrary])('reverse paths', (path) => {
    expect(parseReversePath(serializeReversePath(path), strict)).toEqual({ ok: true, value: path });
  });

  test.prop([forwardPathArbitrary])('forward paths', (path) => {
    expect(parseForwardPath(serializeForwardPath(path), strict)).toEqual({ ok: true, value: path });
  });

  test.prop([mailParametersArbitrary])('MAIL parameters', (parameters) => {
    expect(parseMailParameters(serializeMailParameters(parameters), strict)).toEqual({
      ok: true,
      value: parameters,
    });
  });

  test.prop([rcptParametersArbitrary])('RCPT parameters', (parameters) => {
    expect(parseRcptParameters(serializeRcptParameters(parameters), strict)).toEqual({
      ok: true,
      value: parameters,
    });
  });

  test.prop([fc.string({ unit: 'grapheme' })])('xtext', (text) => {
    const encoded = encodeXtext(text);
    expect(encoded).toMatch(/^[\u0021-\u007e]*$/);
    expect(decodeXtext(encoded)).toBe(text);
  });

  test.prop([fc.uint8Array({ maxLength: 100 })])('base64', (bytes) => {
    const encoded = encodeBase64(bytes);
    expect(encoded).toBe(Buffer.from(bytes).toString('base64'));
    expect(decodeBase64(encoded)).toEqual(bytes);
  });

  test.prop([fc.string({ unit: 'grapheme' })])('UTF-8', (text) => {
    expect(decodeUtf8(encodeUtf8(text))).toBe(text);
  });
});

/** Mostly command-shaped lines, so the fuzzing reaches deep into the grammar. */
const commandishArbitrary = fc.oneof(
  fc.uint8Array({ maxLength: 80 }),
  fc
    .tuple(
      fc.constantFrom(
        'MAIL FROM:',
        'RCPT TO:',
        'EHLO ',
        'AUTH ',
        'BDAT ',
        'XCLIENT ',
        'VRFY ',
        'mail from: ',
        'DATA',
      ),
      fc.string({
        unit: fc.constantFrom(...'<>@."\\[]:;,=+ \tabcxyzIPv6:0123456789SIZEBODY-_\u00e9\u0000\r'.split('')),
      }),
    )
    .map(([verb, rest]) => encodeUtf8(verb + rest)),
  commandArbitrary.chain((command) =>
    fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })).map(([position, byte]) => {
      const bytes = encodeUtf8(serializeCommand(command));
      if (bytes.length > 0) bytes[position % bytes.length] = byte;
      return bytes;
    }),
  ),
);

describe('robustness', () => {
  test.prop([commandishArbitrary, syntaxArbitrary])(
    'parseCommand never throws and answers with a 5xx',
    (line, syntax) => {
      const result = parseCommand(line, syntax);
      if (!result.ok) {
        expect(result.reply.code).toBeGreaterThanOrEqual(500);
        expect(result.reply.code).toBeLessThan(600);
      } else {
        // Whatever was accepted can be written back, unless lenient mode took a non-grammar HELO name.
        if (!(syntax.mode === 'lenient' && 'client' in result.value))
          expect(() => serializeCommand(result.value)).not.toThrow();
      }
    },
  );

  test.prop([fc.string(), syntaxArbitrary])('path and domain parsers never throw', (text, syntax) => {
    for (const parse of [
      parseReversePath,
      parseForwardPath,
      parseMailbox,
      parseDomain,
      parseMailParameters,
      parseRcptParameters,
    ]) {
      const result = parse(text, syntax);
      expect(typeof result.ok).toBe('boolean');
    }
  });

  test.prop([fc.string()])('xtext and base64 decoders never throw', (text) => {
    expect(() => decodeXtext(text)).not.toThrow();
    expect(() => decodeBase64(text)).not.toThrow();
  });

  test.prop([fc.array(fc.tuple(fc.string(), fc.string()))])(
    'parseXclientAttributes never throws',
    (entries) => {
      expect(typeof parseXclientAttributes(new Map(entries)).ok).toBe('boolean');
    },
  );

  test.prop([fc.uint8Array()])('decodeUtf8 never throws', (bytes) => {
    expect(typeof decodeUtf8(bytes)).toBe('string');
  });
});
