import { describe, expect, it } from 'vitest';
import type { CommandSyntax } from '../command/command.js';
import { createReply } from '../reply/create-reply.js';
import { type ReplyName, replies } from '../reply/reply-catalog.js';
import { isIpv4Address, isIpv6Address } from './ip-literal.js';
import { parseDomain, parseForwardPath, parseMailbox, parseReversePath } from './parse-path.js';
import {
  serializeDomain,
  serializeForwardPath,
  serializeMailbox,
  serializeReversePath,
} from './serialize-path.js';

const strict: CommandSyntax = { mode: 'strict', smtpUtf8: false };
const lenient: CommandSyntax = { mode: 'lenient', smtpUtf8: false };
const strictUtf8: CommandSyntax = { mode: 'strict', smtpUtf8: true };

function rejectedWith(name: ReplyName) {
  return { ok: false, reply: createReply(replies[name]) };
}

describe('parseMailbox (RFC 5321 §4.1.2)', () => {
  it.each([
    ['user@example.com', 'user', { kind: 'name', name: 'example.com' }],
    ['first.last@sub.example.org', 'first.last', { kind: 'name', name: 'sub.example.org' }],
    ["!#$%&'*+-/=?^_`{|}~@x.y", "!#$%&'*+-/=?^_`{|}~", { kind: 'name', name: 'x.y' }],
    ['a@b', 'a', { kind: 'name', name: 'b' }],
    ['a@1-2.3com', 'a', { kind: 'name', name: '1-2.3com' }],
    ['"john doe"@example.com', 'john doe', { kind: 'name', name: 'example.com' }],
    ['"a\\"b\\\\c"@example.com', 'a"b\\c', { kind: 'name', name: 'example.com' }], // quoted-pairSMTP decoded
    ['"\\a"@example.com', 'a', { kind: 'name', name: 'example.com' }],
    ['""@example.com', '', { kind: 'name', name: 'example.com' }],
    ['"a@b>"@example.com', 'a@b>', { kind: 'name', name: 'example.com' }],
    ['x@[192.0.2.1]', 'x', { kind: 'ipv4', address: '192.0.2.1' }],
    ['x@[0.0.0.0]', 'x', { kind: 'ipv4', address: '0.0.0.0' }],
    ['x@[255.255.255.255]', 'x', { kind: 'ipv4', address: '255.255.255.255' }],
    ['x@[IPv6:2001:db8::1]', 'x', { kind: 'ipv6', address: '2001:db8::1' }],
    ['x@[ipv6:::1]', 'x', { kind: 'ipv6', address: '::1' }], // ABNF literals are case-insensitive
    ['x@[IPv6:1:2:3:4:5:6:7:8]', 'x', { kind: 'ipv6', address: '1:2:3:4:5:6:7:8' }], // IPv6-full
    ['x@[IPv6:::]', 'x', { kind: 'ipv6', address: '::' }], // IPv6-comp, both sides empty
    ['x@[IPv6:1:2:3::4:5:6]', 'x', { kind: 'ipv6', address: '1:2:3::4:5:6' }], // 6 groups + "::"
    ['x@[IPv6:1:2:3:4:5:6:192.0.2.1]', 'x', { kind: 'ipv6', address: '1:2:3:4:5:6:192.0.2.1' }], // IPv6v4-full
    ['x@[IPv6:::ffff:192.0.2.1]', 'x', { kind: 'ipv6', address: '::ffff:192.0.2.1' }], // IPv6v4-comp
    ['x@[IPv6:1:2::3:4:192.0.2.1]', 'x', { kind: 'ipv6', address: '1:2::3:4:192.0.2.1' }],
    ['x@[x400:c=us;a=x]', 'x', { kind: 'general', tag: 'x400', content: 'c=us;a=x' }], // General-address-literal
  ])('%s', (text, localPart, domain) => {
    expect(parseMailbox(text, strict)).toEqual({ ok: true, value: { localPart, domain } });
  });

  it.each([
    'user', // no @
    '@example.com', // empty local part
    'user@', // empty domain
    'a..b@example.com', // empty atom
    '.a@example.com',
    'a.@example.com',
    'a b@example.com',
    'a@b@example.com',
    '"unterminated@example.com',
    '"a"b@example.com',
    '"\\\u0001"@example.com', // quoted-pair of a control
    '"tab\there"@example.com',
    'a@-example.com', // label starting with "-"
    'a@example-.com', // label ending with "-"
    'a@example..com',
    'a@example.com.', // trailing dot
    'a@exa_mple.com', // "_" only in lenient mode
    'a@exa mple.com',
    `a@${'l'.repeat(64)}.com`, // label over 63 octets
    'a@[192.0.2.256]', // Snum over 255
    'a@[192.0.2]',
    'a@[192.0.2.1.5]',
    'a@[1922.0.2.1]',
    'a@[192.0.2.1', // no closing bracket
    'a@[]',
    'a@[IPv6:1:2:3:4:5:6:7]', // 7 groups without "::"
    'a@[IPv6:1:2:3:4:5:6:7:8:9]',
    'a@[IPv6:1:2:3:4:5:6:7::]', // "::" must stand for at least two groups (RFC 5321)
    'a@[IPv6:1::2::3]', // two "::"
    'a@[IPv6:12345::]', // group over 4 hex digits
    'a@[IPv6:g::1]',
    'a@[IPv6:1:2:3:4:5::192.0.2.1]', // more than 4 groups besides "::" and IPv4
    'a@[IPv6:1:2:3:4:5:6:7:192.0.2.1]',
    'a@[IPv6:192.0.2.1]',
    'a@[IPv6:::192.0.2.256]',
    'a@[tag:]', // general literal needs content
    'a@[:content]',
    'a@[tag-:x]', // Ldh-str ends in a letter or digit
    'a@[tag:a[b]',
    'a@[tag:a\\b]',
    'a@[1.2.3.4]x',
  ])('rejects %s', (text) => {
    expect(parseMailbox(text, strict)).toEqual(rejectedWith('badAddressSyntax'));
  });

  it('limits the local part to 64 octets in strict mode only (RFC 5321 §4.5.3.1.1)', () => {
    const local64 = 'a'.repeat(64);
    const local65 = 'a'.repeat(65);
    expect(parseMailbox(`${local64}@example.com`, strict).ok).toBe(true);
    expect(parseMailbox(`${local65}@example.com`, strict)).toEqual(rejectedWith('badAddressSyntax'));
    expect(parseMailbox(`${local65}@example.com`, lenient)).toEqual({
      ok: true,
      value: { localPart: local65, domain: { kind: 'name', name: 'example.com' } },
    });
    // Octets, not characters: 32 two-octet characters are 64 octets, 33 are too many.
    expect(parseMailbox(`${'é'.repeat(32)}@example.com`, strictUtf8).ok).toBe(true);
    expect(parseMailbox(`${'é'.repeat(33)}@example.com`, strictUtf8)).toEqual(
      rejectedWith('badAddressSyntax'),
    );
  });

  it('limits the domain to 255 octets in both modes (RFC 5321 §4.5.3.1.2)', () => {
    const label = 'a'.repeat(63);
    const domain255 = [label, label, label, 'b'.repeat(63)].join('.'); // 4 * 63 + 3 = 255
    const domain257 = `${domain255}.c`;
    expect(parseDomain(domain255, strict)).toEqual({ ok: true, value: { kind: 'name', name: domain255 } });
    expect(parseDomain(domain257, strict)).toEqual(rejectedWith('syntaxErrorInParameters'));
    expect(parseDomain(domain257, lenient)).toEqual(rejectedWith('syntaxErrorInParameters'));
  });

  it('accepts UTF-8 only under SMTPUTF8 (RFC 6531 §3.3)', () => {
    expect(parseMailbox('用户@例子.广告', strictUtf8)).toEqual({
      ok: true,
      value: { localPart: '用户', domain: { kind: 'name', name: '例子.广告' } },
    });
    expect(parseMailbox('"jöhn doe"@example.com', strictUtf8).ok).toBe(true);
    expect(parseMailbox('用户@example.com', strict)).toEqual(rejectedWith('utf8WithoutSmtpUtf8'));
    expect(parseMailbox('user@例子.广告', strict)).toEqual(rejectedWith('utf8WithoutSmtpUtf8'));
    expect(parseMailbox('"jöhn"@example.com', strict)).toEqual(rejectedWith('utf8WithoutSmtpUtf8'));
    expect(parseMailbox('\u0085x@example.com', strictUtf8)).toEqual(rejectedWith('badAddressSyntax')); // C1 control
    expect(parseMailbox('a@[IPv6:::ä]', strictUtf8)).toEqual(rejectedWith('badAddressSyntax'));
  });

  it('takes UTF-8 domain labels only when they are U-labels (RFC 6531 §3.2, RFC 5891)', () => {
    expect(parseMailbox('user@bücher.example', strictUtf8)).toEqual({
      ok: true,
      value: { localPart: 'user', domain: { kind: 'name', name: 'bücher.example' } },
    });
    expect(parseMailbox('user@a\u200db.example', strictUtf8)).toEqual(rejectedWith('badAddressSyntax'));
    expect(parseMailbox('user@ＡＢＣ.example', strictUtf8)).toEqual(rejectedWith('badAddressSyntax'));
    expect(parseDomain('\u05d0a.example', { mode: 'strict', smtpUtf8: true })).toEqual(
      rejectedWith('syntaxErrorInParameters'),
    );
  });

  it('lenient mode: empty atoms, "_" in names, RFC 4291 "::" for one group, surrounding spaces', () => {
    expect(parseMailbox('a..b.@example.com', lenient)).toEqual({
      ok: true,
      value: { localPart: 'a..b.', domain: { kind: 'name', name: 'example.com' } },
    });
    expect(parseMailbox('a@exa_mple.com', lenient).ok).toBe(true);
    expect(parseMailbox('a@[IPv6:1:2:3:4:5:6:7::]', lenient).ok).toBe(true);
    expect(parseMailbox('  a@b.c ', lenient).ok).toBe(true);
    expect(parseMailbox('  a@b.c ', strict).ok).toBe(false);
  });
});

describe('parseReversePath / parseForwardPath', () => {
  const mailbox = { localPart: 'user', domain: { kind: 'name', name: 'example.com' } };

  it('reads <>, <Postmaster> case-insensitively, and mailboxes', () => {
    expect(parseReversePath('<>', strict)).toEqual({ ok: true, value: null });
    expect(parseReversePath('<user@example.com>', strict)).toEqual({ ok: true, value: mailbox });
    expect(parseForwardPath('<Postmaster>', strict)).toEqual({ ok: true, value: 'Postmaster' });
    expect(parseForwardPath('<postMASTER>', strict)).toEqual({ ok: true, value: 'Postmaster' });
    expect(parseForwardPath('<Postmaster@example.com>', strict)).toEqual({
      ok: true,
      value: { localPart: 'Postmaster', domain: { kind: 'name', name: 'example.com' } },
    });
    expect(parseForwardPath('<>', strict)).toEqual(rejectedWith('badAddressSyntax'));
    expect(parseReversePath('<Postmaster>', strict)).toEqual(rejectedWith('badSenderAddressSyntax'));
  });

  it('accepts and drops source routes (RFC 5321 §4.1.1.3, Appendix C)', () => {
    expect(parseForwardPath('<@hosta.int,@jkl.org:userc@d.bar.org>', strict)).toEqual({
      ok: true,
      value: { localPart: 'userc', domain: { kind: 'name', name: 'd.bar.org' } },
    });
    expect(parseReversePath('<@a:user@example.com>', strict)).toEqual({ ok: true, value: mailbox });
    for (const bad of [
      '<@:user@example.com>',
      '<@a,user@example.com>',
      '<@a;@b:user@example.com>',
      '<@[1.2.3.4]:u@e.com>',
      '<@a>',
    ]) {
      expect(parseForwardPath(bad, strict)).toEqual(rejectedWith('badAddressSyntax'));
    }
  });

  it.each([
    'user@example.com',
    '<user@example.com',
    'user@example.com>',
    '<user@example.com> ',
    '< user@example.com>',
    '<<a@b>>',
    '',
  ])('strict mode rejects %j', (text) => {
    expect(parseForwardPath(text, strict)).toEqual(rejectedWith('badAddressSyntax'));
    expect(parseReversePath(text, strict)).toEqual(rejectedWith('badSenderAddressSyntax'));
  });

  it('lenient mode takes a path without angle brackets', () => {
    expect(parseReversePath('user@example.com', lenient)).toEqual({ ok: true, value: mailbox });
    expect(parseForwardPath('Postmaster', lenient)).toEqual({ ok: true, value: 'Postmaster' });
  });

  it('limits the path to 256 octets in strict mode (RFC 5321 §4.5.3.1.3)', () => {
    const label = 'a'.repeat(63);
    const domain = [label, label, label].join('.'); // 191
    const local = 'b'.repeat(63);
    const path = `<${local}@${domain}>`; // 1 + 63 + 1 + 191 + 1 = 257
    expect(parseForwardPath(path, strict)).toEqual(rejectedWith('badAddressSyntax'));
    expect(parseForwardPath(`<${local.slice(1)}@${domain}>`, strict).ok).toBe(true);
    expect(parseForwardPath(path, lenient).ok).toBe(true);
  });
});

describe('serialize', () => {
  it('quotes the local part only when it is not a Dot-string', () => {
    const domain = { kind: 'name', name: 'example.com' } as const;
    expect(serializeMailbox({ localPart: 'first.last', domain })).toBe('first.last@example.com');
    expect(serializeMailbox({ localPart: 'john doe', domain })).toBe('"john doe"@example.com');
    expect(serializeMailbox({ localPart: 'a"b\\c', domain })).toBe('"a\\"b\\\\c"@example.com');
    expect(serializeMailbox({ localPart: 'a..b', domain })).toBe('"a..b"@example.com');
    expect(serializeMailbox({ localPart: '', domain })).toBe('""@example.com');
    expect(serializeMailbox({ localPart: 'üser', domain })).toBe('üser@example.com');
  });

  it('writes paths and literals', () => {
    expect(serializeReversePath(null)).toBe('<>');
    expect(serializeForwardPath('Postmaster')).toBe('<Postmaster>');
    expect(serializeDomain({ kind: 'ipv4', address: '192.0.2.1' })).toBe('[192.0.2.1]');
    expect(serializeDomain({ kind: 'ipv6', address: '2001:db8::1' })).toBe('[IPv6:2001:db8::1]');
    expect(serializeDomain({ kind: 'general', tag: 'x400', content: 'c=us' })).toBe('[x400:c=us]');
  });

  it('refuses values that would break the command line', () => {
    const domain = { kind: 'name', name: 'example.com' } as const;
    expect(() => serializeMailbox({ localPart: 'a\r\nRCPT TO:<x@y>', domain })).toThrow(/control character/);
    expect(() => serializeDomain({ kind: 'name', name: 'example.com>\r\nDATA' })).toThrow(/Invalid name/);
    expect(() => serializeDomain({ kind: 'ipv6', address: '::1]' })).toThrow();
    expect(() => serializeDomain({ kind: 'general', tag: 'x', content: 'a]' })).toThrow();
  });
});

describe('IP literals', () => {
  it('IPv4 (Snum = 1*3DIGIT, 0..255)', () => {
    expect(isIpv4Address('1.2.3.4')).toBe(true);
    expect(isIpv4Address('001.002.003.004')).toBe(true);
    for (const bad of ['1.2.3', '1.2.3.4.', '.1.2.3', '1..2.3', '256.1.1.1', '1.2.3.4444', '1.2.3.a', '']) {
      expect(isIpv4Address(bad), bad).toBe(false);
    }
  });

  it('IPv6 forms, RFC 5321 versus RFC 4291 counting of "::"', () => {
    expect(isIpv6Address('::', false)).toBe(true);
    expect(isIpv6Address('::1', false)).toBe(true);
    expect(isIpv6Address('1::', false)).toBe(true);
    expect(isIpv6Address('1:2:3:4:5:6::', false)).toBe(true);
    expect(isIpv6Address('1:2:3:4:5:6:7::', false)).toBe(false);
    expect(isIpv6Address('1:2:3:4:5:6:7::', true)).toBe(true);
    expect(isIpv6Address('1:2:3:4::192.0.2.1', false)).toBe(true);
    expect(isIpv6Address('1:2:3:4:5::192.0.2.1', false)).toBe(false);
    expect(isIpv6Address('1:2:3:4:5::192.0.2.1', true)).toBe(true);
    expect(isIpv6Address(':1:2:3:4:5:6:7', false)).toBe(false);
    expect(isIpv6Address('1:2:3:4:5:6:7:', false)).toBe(false);
    expect(isIpv6Address(':::', false)).toBe(false);
  });
});
