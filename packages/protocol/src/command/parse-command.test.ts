import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { encodeUtf8 } from '../bytes/utf8.js';
import { createReply } from '../reply/create-reply.js';
import { type ReplyName, replies } from '../reply/reply-catalog.js';
import type { CommandSyntax } from './command.js';
import { parseCommand } from './parse-command.js';
import { serializeCommand } from './serialize-command.js';

const strict: CommandSyntax = { mode: 'strict', smtpUtf8: false };
const lenient: CommandSyntax = { mode: 'lenient', smtpUtf8: false };
const utf8: CommandSyntax = { mode: 'strict', smtpUtf8: true };

function parse(line: string, syntax?: CommandSyntax) {
  return parseCommand(encodeUtf8(line), syntax);
}

function rejectedWith(name: ReplyName) {
  return { ok: false, reply: createReply(replies[name]) };
}

const exampleCom = { kind: 'name', name: 'example.com' } as const;
const none = { unknown: [] };

describe('verbs (RFC 5321 §4.1.1)', () => {
  it.each([
    ['EHLO client.example.com', { verb: 'EHLO', client: { kind: 'name', name: 'client.example.com' } }],
    ['ehlo [192.0.2.1]', { verb: 'EHLO', client: { kind: 'ipv4', address: '192.0.2.1' } }],
    ['HELO [IPv6:2001:db8::1]', { verb: 'HELO', client: { kind: 'ipv6', address: '2001:db8::1' } }],
    ['LHLO lmtp.example', { verb: 'LHLO', client: { kind: 'name', name: 'lmtp.example' } }],
    ['HELO 192.0.2.1', { verb: 'HELO', client: { kind: 'name', name: '192.0.2.1' } }], // digits are LDH labels
    [
      'MAIL FROM:<user@example.com>',
      { verb: 'MAIL', from: { localPart: 'user', domain: exampleCom }, parameters: none },
    ],
    ['mail from:<>', { verb: 'MAIL', from: null, parameters: none }],
    [
      'RCPT TO:<user@example.com>',
      { verb: 'RCPT', to: { localPart: 'user', domain: exampleCom }, parameters: none },
    ],
    ['RCPT TO:<Postmaster>', { verb: 'RCPT', to: 'Postmaster', parameters: none }],
    ['DATA', { verb: 'DATA' }],
    ['rset', { verb: 'RSET' }],
    ['QUIT', { verb: 'QUIT' }],
    ['StartTLS', { verb: 'STARTTLS' }],
    ['NOOP', { verb: 'NOOP', argument: '' }],
    ['NOOP anything goes', { verb: 'NOOP', argument: 'anything goes' }],
    ['HELP MAIL', { verb: 'HELP', argument: 'MAIL' }],
    ['VRFY Smith', { verb: 'VRFY', argument: 'Smith' }],
    ['EXPN Example-People', { verb: 'EXPN', argument: 'Example-People' }],
    ['ETRN @example.com', { verb: 'ETRN', argument: '@example.com' }],
    ['BDAT 1000', { verb: 'BDAT', size: 1000, last: false }],
    ['BDAT 0 LAST', { verb: 'BDAT', size: 0, last: true }],
    ['bdat 9007199254740991 last', { verb: 'BDAT', size: Number.MAX_SAFE_INTEGER, last: true }],
    ['AUTH LOGIN', { verb: 'AUTH', mechanism: 'LOGIN', initialResponse: null }],
    ['auth plain =', { verb: 'AUTH', mechanism: 'PLAIN', initialResponse: new Uint8Array(0) }],
    [
      'AUTH PLAIN AHRlc3QAdGVzdA==',
      { verb: 'AUTH', mechanism: 'PLAIN', initialResponse: encodeUtf8('\0test\0test') },
    ],
    ['AUTH SCRAM-SHA-256', { verb: 'AUTH', mechanism: 'SCRAM-SHA-256', initialResponse: null }],
  ])('%s', (line, value) => {
    expect(parse(line)).toEqual({ ok: true, value });
  });

  it('XCLIENT: names uppercased, values xtext-decoded', () => {
    const result = parse('XCLIENT name=mail.example.net ADDR=192.0.2.7 LOGIN=a+2Bb HELO=[UNAVAILABLE]');
    expect(result).toEqual({
      ok: true,
      value: {
        verb: 'XCLIENT',
        attributes: new Map([
          ['NAME', 'mail.example.net'],
          ['ADDR', '192.0.2.7'],
          ['LOGIN', 'a+b'],
          ['HELO', '[UNAVAILABLE]'],
        ]),
      },
    });
    for (const bad of [
      'XCLIENT',
      'XCLIENT NAME',
      'XCLIENT NAME=a NAME=b',
      'XCLIENT NAME=a+zz',
      'XCLIENT =a',
      'XCLIENT NAME=a ',
    ]) {
      expect(parse(bad), bad).toEqual(rejectedWith('syntaxErrorInParameters'));
    }
  });

  it.each([
    'FOO',
    'MAILX FROM:<a@b>',
    '',
    ' ',
    'MAI',
    'DATAX',
    'MAIL\tFROM:<a@b>',
    'ma\u00efl FROM:<a@b>',
    'lš FROM:<a@b>',
  ])('unknown verb %j → 500 5.5.2', (line) => {
    expect(parse(line)).toEqual(rejectedWith('syntaxError'));
  });

  it.each(['DATA x', 'DATA ', 'RSET now', 'QUIT please', 'STARTTLS x'])(
    '%j takes no argument → 501 5.5.4',
    (line) => {
      expect(parse(line)).toEqual(rejectedWith('syntaxErrorInParameters'));
    },
  );

  it.each([
    'EHLO',
    'EHLO ',
    'HELO exa_mple.com',
    'EHLO -bad.example',
    'EHLO [300.1.1.1]',
    'EHLO client.example.com extra',
    'VRFY',
    'VRFY  ',
    'EXPN',
    'ETRN',
    'NOOP a\rb',
    'HELP a\tb',
    'BDAT',
    'BDAT x',
    'BDAT -1',
    'BDAT 12 LAST more',
    'BDAT 12 FIRST',
    'BDAT 9007199254740992',
    'BDAT 12345678901234567',
    'BDAT 12  LAST',
    'AUTH',
    'AUTH PLAIN A B',
    'AUTH ABCDEFGHIJKLMNOPQRSTU', // 21 characters
    'AUTH PL@IN',
    'MAIL',
    'MAIL TO:<a@b>',
    'MAIL FROM <a@b>',
    'MAIL  FROM:<a@b>',
    'RCPT FROM:<a@b>',
  ])('%j → 501 5.5.4', (line) => {
    expect(parse(line)).toEqual(rejectedWith('syntaxErrorInParameters'));
  });

  it('AUTH with an initial response that is not base64 → authMalformed', () => {
    for (const bad of [
      'AUTH PLAIN ====',
      'AUTH PLAIN abc',
      'AUTH PLAIN YQ=',
      'AUTH PLAIN YR==',
      'AUTH PLAIN a*==',
    ]) {
      expect(parse(bad), bad).toEqual(rejectedWith('authMalformed'));
    }
  });

  it('NUL anywhere → nulInCommand', () => {
    expect(parseCommand(new Uint8Array([0x4e, 0x4f, 0x4f, 0x50, 0x00]))).toEqual(
      rejectedWith('nulInCommand'),
    );
    expect(parse('MAIL FROM:<a\u0000@b>')).toEqual(rejectedWith('nulInCommand'));
    expect(parse('\u0000')).toEqual(rejectedWith('nulInCommand'));
  });
});

describe('MAIL and RCPT paths', () => {
  it.each([
    ['MAIL FROM:<a@b> ', 'syntaxErrorInParameters'], // strict: no trailing space
    ['MAIL FROM: <a@b>', 'badSenderAddressSyntax'], // strict: no space after the colon
    ['MAIL FROM:a@b', 'badSenderAddressSyntax'],
    ['MAIL FROM:<a@b', 'badSenderAddressSyntax'],
    ['MAIL FROM:<a@b>x', 'syntaxErrorInParameters'],
    ['MAIL FROM:<a b@c>', 'badSenderAddressSyntax'],
    ['MAIL FROM:<Postmaster>', 'badSenderAddressSyntax'],
    ['RCPT TO:<>', 'badAddressSyntax'],
    ['RCPT TO:<a@[1.2.3.999]>', 'badAddressSyntax'],
    ['RCPT TO:<a@[IPv6:1::2::3]>', 'badAddressSyntax'],
    [`RCPT TO:<${'x'.repeat(65)}@example.com>`, 'badAddressSyntax'],
    [`MAIL FROM:<${'x'.repeat(65)}@example.com>`, 'badSenderAddressSyntax'],
  ] as const)('%j → %s', (line, name) => {
    expect(parse(line)).toEqual(rejectedWith(name));
  });

  it('accepts a quoted local part containing spaces and ">"', () => {
    expect(parse('RCPT TO:<"a> b"@example.com> NOTIFY=NEVER')).toEqual({
      ok: true,
      value: {
        verb: 'RCPT',
        to: { localPart: 'a> b', domain: exampleCom },
        parameters: { notify: 'NEVER', unknown: [] },
      },
    });
  });

  it('accepts and drops a source route', () => {
    expect(parse('RCPT TO:<@hosta.int,@jkl.org:userc@d.bar.org>')).toEqual({
      ok: true,
      value: {
        verb: 'RCPT',
        to: { localPart: 'userc', domain: { kind: 'name', name: 'd.bar.org' } },
        parameters: none,
      },
    });
  });

  it('8-bit paths need SMTPUTF8 offered and, for MAIL, requested (RFC 6531 §3.4)', () => {
    const mailbox = { localPart: 'jöran', domain: { kind: 'name', name: 'exämple.se' } };
    expect(parse('MAIL FROM:<jöran@exämple.se>')).toEqual(rejectedWith('utf8WithoutSmtpUtf8'));
    expect(parse('MAIL FROM:<jöran@exämple.se>', utf8)).toEqual(rejectedWith('utf8WithoutSmtpUtf8'));
    expect(parse('MAIL FROM:<jöran@exämple.se> SMTPUTF8', strict)).toEqual(
      rejectedWith('utf8WithoutSmtpUtf8'),
    );
    expect(parse('MAIL FROM:<jöran@exämple.se> SMTPUTF8', utf8)).toEqual({
      ok: true,
      value: { verb: 'MAIL', from: mailbox, parameters: { smtpUtf8: true, unknown: [] } },
    });
    expect(parse('RCPT TO:<jöran@exämple.se>', utf8)).toEqual({
      ok: true,
      value: { verb: 'RCPT', to: mailbox, parameters: none },
    });
    expect(parse('RCPT TO:<jöran@exämple.se>')).toEqual(rejectedWith('utf8WithoutSmtpUtf8'));
    // Latin-1 bytes are not UTF-8: never an SMTPUTF8 address.
    const latin1 = new Uint8Array([...encodeUtf8('RCPT TO:<j'), 0xf6, ...encodeUtf8('ran@example.se>')]);
    expect(parseCommand(latin1, utf8)).toEqual(rejectedWith('utf8WithoutSmtpUtf8'));
    expect(parseCommand(latin1, strict)).toEqual(rejectedWith('utf8WithoutSmtpUtf8'));
    expect(parse('EHLO exämple.se')).toEqual(rejectedWith('syntaxErrorInParameters'));
    expect(parse('VRFY jöran')).toEqual(rejectedWith('syntaxErrorInParameters'));
    expect(parse('VRFY jöran', utf8)).toEqual({ ok: true, value: { verb: 'VRFY', argument: 'jöran' } });
  });
});

describe('ESMTP parameters on MAIL and RCPT', () => {
  it('types every known MAIL parameter', () => {
    const line =
      'MAIL FROM:<a@example.com> SIZE=1048576 BODY=8bitmime SMTPUTF8 RET=hdrs ENVID=QQ+2B314 AUTH=e+2Bd@example.com BY=120;RT REQUIRETLS X-EXT=1 X-FLAG';
    expect(parse(line, utf8)).toEqual({
      ok: true,
      value: {
        verb: 'MAIL',
        from: { localPart: 'a', domain: exampleCom },
        parameters: {
          size: 1048576,
          body: '8BITMIME',
          smtpUtf8: true,
          ret: 'HDRS',
          envid: 'QQ+314',
          auth: 'e+d@example.com',
          by: { seconds: 120, mode: 'R', trace: true },
          requireTls: true,
          unknown: [
            { keyword: 'X-EXT', value: '1' },
            { keyword: 'X-FLAG', value: null },
          ],
        },
      },
    });
  });

  it('reads AUTH=<>, negative BY times, BODY=BINARYMIME, RET=FULL', () => {
    expect(parse('MAIL FROM:<> AUTH=<> BY=-30;N BODY=BINARYMIME RET=FULL')).toEqual({
      ok: true,
      value: {
        verb: 'MAIL',
        from: null,
        parameters: {
          auth: null,
          by: { seconds: -30, mode: 'N', trace: false },
          body: 'BINARYMIME',
          ret: 'FULL',
          unknown: [],
        },
      },
    });
  });

  it('types NOTIFY and ORCPT', () => {
    expect(parse('RCPT TO:<a@example.com> NOTIFY=success,delay ORCPT=rfc822;a+2Bb@example.com')).toEqual({
      ok: true,
      value: {
        verb: 'RCPT',
        to: { localPart: 'a', domain: exampleCom },
        parameters: {
          notify: ['SUCCESS', 'DELAY'],
          orcpt: { addressType: 'rfc822', address: 'a+b@example.com' },
          unknown: [],
        },
      },
    });
  });

  it('reads an ORCPT of type utf-8 in its 7-bit and, under SMTPUTF8, its UTF-8 form (RFC 6533 §3)', () => {
    const orcptOf = (line: string, syntax?: CommandSyntax) => {
      const result = parse(line, syntax);
      return result.ok && result.value.verb === 'RCPT' ? result.value.parameters.orcpt : result;
    };
    const expected = { addressType: 'utf-8', address: 'jörg@bücher.example' };
    expect(orcptOf('RCPT TO:<a@example.com> ORCPT=utf-8;j\\x{F6}rg@b\\x{FC}cher.example')).toEqual(expected);
    expect(orcptOf('RCPT TO:<a@example.com> ORCPT=utf-8;jörg@bücher.example', utf8)).toEqual(expected);
    // xtext's "+XX" is not this encoding: "+" is no QCHAR.
    expect(orcptOf('RCPT TO:<a@example.com> ORCPT=utf-8;j+C3+B6rg@example.com')).toMatchObject({ ok: false });
    const command = serializeCommand({
      verb: 'RCPT',
      to: { localPart: 'a', domain: exampleCom },
      parameters: { orcpt: expected, unknown: [] },
    });
    expect(command).toBe('RCPT TO:<a@example.com> ORCPT=utf-8;j\\x{F6}rg@b\\x{FC}cher.example');
  });

  it('keeps unknown parameters (the session answers 555), including RCPT ones on MAIL', () => {
    expect(parse('MAIL FROM:<> NOTIFY=NEVER')).toEqual({
      ok: true,
      value: { verb: 'MAIL', from: null, parameters: { unknown: [{ keyword: 'NOTIFY', value: 'NEVER' }] } },
    });
  });

  it.each([
    'MAIL FROM:<> SIZE=abc',
    'MAIL FROM:<> SIZE=',
    'MAIL FROM:<> SIZE',
    'MAIL FROM:<> SIZE=-1',
    'MAIL FROM:<> SIZE=99999999999999999999', // beyond a safe integer
    'MAIL FROM:<> SIZE=1 SIZE=2', // duplicated
    'MAIL FROM:<> size=1 SIZE=1',
    'MAIL FROM:<> X-A=1 X-A=2',
    'MAIL FROM:<> BODY=FOO',
    'MAIL FROM:<> SMTPUTF8=YES',
    'MAIL FROM:<> REQUIRETLS=1',
    'MAIL FROM:<> RET=ALL',
    'MAIL FROM:<> ENVID=a+2',
    'MAIL FROM:<> ENVID=a+2f', // xtext hex must be upper case
    'MAIL FROM:<> ENVID=+0D+0A', // ENVID is printable ASCII only (RFC 3461 §4.4)
    `MAIL FROM:<> ENVID=${'x'.repeat(101)}`,
    'MAIL FROM:<> ENVID',
    'MAIL FROM:<> AUTH=+0D',
    'MAIL FROM:<> AUTH=a+G0',
    'MAIL FROM:<> BY=10',
    'MAIL FROM:<> BY=10;X',
    'MAIL FROM:<> BY=1234567890;R',
    'MAIL FROM:<> BY=;R',
    'MAIL FROM:<>  SIZE=1', // strict: one SP
    'MAIL FROM:<> SIZE=1  BODY=7BIT',
    'MAIL FROM:<> -X=1', // keyword starts with a letter or digit
    'MAIL FROM:<> X=a=b',
    'MAIL FROM:<> X==',
    'RCPT TO:<a@b> NOTIFY=NEVER,SUCCESS',
    'RCPT TO:<a@b> NOTIFY=SUCCESS,SUCCESS',
    'RCPT TO:<a@b> NOTIFY=',
    'RCPT TO:<a@b> NOTIFY=SOMETIMES',
    'RCPT TO:<a@b> NOTIFY=SUCCESS,', // RFC 3461 §4.1: 1#notify-list-element, no empty element
    'RCPT TO:<a@b> NOTIFY=,DELAY',
    'RCPT TO:<a@b> NOTIFY=SUCCESSFAILURE',
    'RCPT TO:<a@b> NOTIFY=NEVER NOTIFY=NEVER',
    'RCPT TO:<a@b> ORCPT=rfc822',
    'RCPT TO:<a@b> ORCPT=;a@b',
    'RCPT TO:<a@b> ORCPT=rfc822;a+2',
    'RCPT TO:<a@b> ORCPT=rfc822;',
    `RCPT TO:<a@b> ORCPT=rfc822;${'x'.repeat(494)}`, // 501 characters
  ])('%j → 501 5.5.4', (line) => {
    expect(parse(line)).toEqual(rejectedWith('syntaxErrorInParameters'));
  });

  it('8-bit parameter values need SMTPUTF8', () => {
    expect(parse('MAIL FROM:<> X-NOTE=café')).toEqual(rejectedWith('syntaxErrorInParameters'));
    expect(parse('MAIL FROM:<> X-NOTE=café', utf8)).toEqual(rejectedWith('utf8WithoutSmtpUtf8'));
    expect(parse('MAIL FROM:<> X-NOTE=café SMTPUTF8', utf8).ok).toBe(true);
  });
});

describe('lenient mode (docs/lenient-mode.md)', () => {
  const mailbox = { localPart: 'a', domain: { kind: 'name', name: 'b.example' } };

  it.each([
    ['MAIL FROM: <a@b.example>', { verb: 'MAIL', from: mailbox, parameters: none }],
    [
      'MAIL FROM:   <a@b.example>   SIZE=10    BODY=7BIT  ',
      { verb: 'MAIL', from: mailbox, parameters: { size: 10, body: '7BIT', unknown: [] } },
    ],
    ['MAIL FROM:a@b.example SIZE=10', { verb: 'MAIL', from: mailbox, parameters: { size: 10, unknown: [] } }],
    ['RCPT TO:a@b.example', { verb: 'RCPT', to: mailbox, parameters: none }],
    ['  rcpt  to: <a@b.example>\t', { verb: 'RCPT', to: mailbox, parameters: none }],
    ['RCPT TO:<a..x.@b.example>', { verb: 'RCPT', to: { ...mailbox, localPart: 'a..x.' }, parameters: none }],
    [
      'RCPT TO:<a@b_c.example>',
      { verb: 'RCPT', to: { ...mailbox, domain: { kind: 'name', name: 'b_c.example' } }, parameters: none },
    ],
    [
      'RCPT TO:<a@b.example> NOTIFY=SUCCESS,SUCCESS',
      { verb: 'RCPT', to: mailbox, parameters: { notify: ['SUCCESS'], unknown: [] } },
    ],
    ['DATA ', { verb: 'DATA' }],
    ['QUIT\t', { verb: 'QUIT' }],
    ['EHLO my_host', { verb: 'EHLO', client: { kind: 'name', name: 'my_host' } }],
    ['EHLO 2001:db8::25', { verb: 'EHLO', client: { kind: 'ipv6', address: '2001:db8::25' } }],
    ['HELO [broken', { verb: 'HELO', client: { kind: 'name', name: '[broken' } }],
    ['EHLO host.example (comment)', { verb: 'EHLO', client: { kind: 'name', name: 'host.example' } }],
    ['NOOP  padded  ', { verb: 'NOOP', argument: 'padded' }],
    ['VRFY john\tsmith', { verb: 'VRFY', argument: 'john smith' }],
    ['BDAT  10  last ', { verb: 'BDAT', size: 10, last: true }],
  ])('%j', (line, value) => {
    expect(parse(line, lenient)).toEqual({ ok: true, value });
  });

  it('still limits what matters: domain size, NUL, bad literals, unknown verbs', () => {
    expect(parse(`RCPT TO:<a@${'b'.repeat(64)}.example>`, lenient)).toEqual(rejectedWith('badAddressSyntax'));
    expect(parse('RCPT TO:<a@[1.2.3.256]>', lenient)).toEqual(rejectedWith('badAddressSyntax'));
    expect(parse('MAIL FROM:<a@b> SIZE=x', lenient)).toEqual(rejectedWith('syntaxErrorInParameters'));
    expect(parse('MAIL FROM:', lenient)).toEqual(rejectedWith('badSenderAddressSyntax'));
    expect(parse('FOO', lenient)).toEqual(rejectedWith('syntaxError'));
    expect(parse('EHLO a\u0001b', lenient)).toEqual(rejectedWith('syntaxErrorInParameters'));
  });

  it('allows long local parts', () => {
    const local = 'x'.repeat(100);
    expect(parse(`RCPT TO:<${local}@b.example>`, lenient)).toEqual({
      ok: true,
      value: { verb: 'RCPT', to: { ...mailbox, localPart: local }, parameters: none },
    });
  });
});

describe('serializeCommand', () => {
  it('writes RFC 5321 forms', () => {
    expect(
      serializeCommand({
        verb: 'MAIL',
        from: { localPart: 'a b', domain: exampleCom },
        parameters: { size: 5, unknown: [] },
      }),
    ).toBe('MAIL FROM:<"a b"@example.com> SIZE=5');
    expect(
      serializeCommand({ verb: 'RCPT', to: 'Postmaster', parameters: { notify: ['FAILURE'], unknown: [] } }),
    ).toBe('RCPT TO:<Postmaster> NOTIFY=FAILURE');
    expect(serializeCommand({ verb: 'AUTH', mechanism: 'PLAIN', initialResponse: new Uint8Array(0) })).toBe(
      'AUTH PLAIN =',
    );
    expect(serializeCommand({ verb: 'BDAT', size: 42, last: true })).toBe('BDAT 42 LAST');
    expect(serializeCommand({ verb: 'NOOP', argument: '' })).toBe('NOOP');
    expect(serializeCommand({ verb: 'MAIL', from: null, parameters: { auth: '<>', unknown: [] } })).toBe(
      'MAIL FROM:<> AUTH=+3C+3E',
    );
    expect(serializeCommand({ verb: 'MAIL', from: null, parameters: { auth: null, unknown: [] } })).toBe(
      'MAIL FROM:<> AUTH=<>',
    );
  });

  it('refuses values that cannot be written (our caller’s bug, not peer input)', () => {
    expect(() => serializeCommand({ verb: 'NOOP', argument: 'x\r\nRSET' })).toThrow();
    expect(() => serializeCommand({ verb: 'VRFY', argument: '' })).toThrow();
    expect(() => serializeCommand({ verb: 'BDAT', size: -1, last: false })).toThrow();
    expect(() => serializeCommand({ verb: 'AUTH', mechanism: 'plain', initialResponse: null })).toThrow();
    expect(() =>
      serializeCommand({
        verb: 'MAIL',
        from: null,
        parameters: { unknown: [{ keyword: 'SIZE', value: '1' }] },
      }),
    ).toThrow();
    expect(() =>
      serializeCommand({
        verb: 'MAIL',
        from: null,
        parameters: { unknown: [{ keyword: 'X', value: 'a b' }] },
      }),
    ).toThrow();
    expect(() =>
      serializeCommand({ verb: 'MAIL', from: null, parameters: { envid: '\n', unknown: [] } }),
    ).toThrow();
    expect(() =>
      serializeCommand({ verb: 'RCPT', to: 'Postmaster', parameters: { notify: [], unknown: [] } }),
    ).toThrow();
    expect(() => serializeCommand({ verb: 'XCLIENT', attributes: new Map() })).toThrow();
  });
});

describe('four-byte lines (read from the bytes, without decoding)', () => {
  const bareVerbs = ['DATA', 'QUIT', 'RSET', 'NOOP'] as const;
  it('takes DATA, QUIT, RSET and NOOP in any case (RFC 5321 §2.4: verbs are case-insensitive)', () => {
    for (const verb of bareVerbs) {
      for (let mask = 0; mask < 16; mask++) {
        const line = [...verb].map((letter, index) => (mask & (1 << index) ? letter.toLowerCase() : letter));
        const expected = verb === 'NOOP' ? { verb, argument: '' } : { verb };
        expect(parse(line.join(''))).toEqual({ ok: true, value: expected });
      }
    }
  });
  test.prop([fc.uint8Array({ minLength: 4, maxLength: 4 })])(
    'accept no other four bytes, and refuse NUL first',
    (bytes) => {
      const result = parseCommand(bytes);
      const text = String.fromCharCode(...bytes).toUpperCase();
      if (bytes.includes(0)) expect(result).toEqual(rejectedWith('nulInCommand'));
      else if (result.ok) expect([...bareVerbs, 'HELP']).toContain(text);
    },
  );
  it('refuses near misses that `| 0x20` does not turn into letters', () => {
    // "@" | 0x20 is "`" and "\x01" | 0x20 is "!": neither is a letter.
    expect(parse('DAT@')).toEqual(rejectedWith('syntaxError'));
    expect(parseCommand(Uint8Array.from([0x44, 0x41, 0x54, 0x01]))).toEqual(rejectedWith('syntaxError'));
  });
});
