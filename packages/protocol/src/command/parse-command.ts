// One SMTP command line (without its CRLF) → Command. RFC 5321 §4.1.1, §4.1.2; extensions per verb.
// Hot path: the verb is dispatched on its first four bytes packed into one number, the line is
// decoded once, and the common commands allocate only their result.

import type { GrammarOptions } from '../address/grammar-options.js';
import { isIpv6Address } from '../address/ip-literal.js';
import type { Domain } from '../address/mailbox.js';
import { readDomain } from '../address/read-domain.js';
import { readForwardPath, readReversePath } from '../address/read-path.js';
import { decodeBase64 } from '../bytes/base64.js';
import { decodeLatin1, decodeUtf8Strict } from '../bytes/utf8.js';
import { decodeXtext } from '../bytes/xtext.js';
import type { ParseResult } from '../parse-result.js';
import type { Command, CommandSyntax, EsmtpParameter, HelloVerb } from './command.js';
import { splitParameters } from './esmtp-parameters.js';
import { noMailParameters, typeMailParameters } from './mail-parameters.js';
import { noRcptParameters, typeRcptParameters } from './rcpt-parameters.js';
import { rejectGrammar, rejection } from './rejection.js';

export { serializeCommand } from './serialize-command.js';

const defaultSyntax: CommandSyntax = { mode: 'strict', smtpUtf8: false };

/** The four grammar option sets, shared so that parsing a path allocates no options object. */
const grammarOptions: readonly GrammarOptions[] = [
  Object.freeze({ lenient: false, utf8: false }),
  Object.freeze({ lenient: false, utf8: true }),
  Object.freeze({ lenient: true, utf8: false }),
  Object.freeze({ lenient: true, utf8: true }),
];

function optionsFor(lenient: boolean, utf8: boolean): GrammarOptions {
  return grammarOptions[(lenient ? 2 : 0) + (utf8 ? 1 : 0)]!;
}

/** A verb's first four letters, lower-cased, as one number. `c | 0x20` is a lower-case letter only for letters. */
function packVerb(text: string): number {
  return (
    ((text.charCodeAt(0) | 0x20) << 24) |
    ((text.charCodeAt(1) | 0x20) << 16) |
    ((text.charCodeAt(2) | 0x20) << 8) |
    (text.charCodeAt(3) | 0x20)
  );
}

const verbCodes = {
  mail: packVerb('mail'),
  rcpt: packVerb('rcpt'),
  data: packVerb('data'),
  bdat: packVerb('bdat'),
  ehlo: packVerb('ehlo'),
  helo: packVerb('helo'),
  lhlo: packVerb('lhlo'),
  rset: packVerb('rset'),
  quit: packVerb('quit'),
  noop: packVerb('noop'),
  vrfy: packVerb('vrfy'),
  expn: packVerb('expn'),
  help: packVerb('help'),
  etrn: packVerb('etrn'),
  auth: packVerb('auth'),
};

/** Commands without arguments are values without state: one shared frozen object each. */
const bareCommands = {
  DATA: Object.freeze({ ok: true, value: Object.freeze({ verb: 'DATA' }) }),
  RSET: Object.freeze({ ok: true, value: Object.freeze({ verb: 'RSET' }) }),
  QUIT: Object.freeze({ ok: true, value: Object.freeze({ verb: 'QUIT' }) }),
  STARTTLS: Object.freeze({ ok: true, value: Object.freeze({ verb: 'STARTTLS' }) }),
  NOOP: Object.freeze({ ok: true, value: Object.freeze({ verb: 'NOOP', argument: '' }) }),
} as const satisfies Record<string, ParseResult<Command>>;

/** The verb of a four-byte line, packed like `packVerb`, without decoding it; -1 for anything else. */
function packVerbBytes(line: Uint8Array): number {
  if (line.length !== 4) return -1;
  return (
    (((line[0] as number) | 0x20) << 24) |
    (((line[1] as number) | 0x20) << 16) |
    (((line[2] as number) | 0x20) << 8) |
    ((line[3] as number) | 0x20)
  );
}

/** The decoded line and what every verb parser needs to know about it. */
interface CommandLine {
  readonly text: string;
  /** Index of the first character after the verb. */
  readonly verbEnd: number;
  /** Index where the argument starts (after one SP; lenient mode: after any run of SP/HTAB). */
  readonly argumentStart: number;
  /** Every byte was 7-bit. */
  readonly ascii: boolean;
  /** The bytes were well-formed UTF-8 (always true when ascii). */
  readonly validUtf8: boolean;
  readonly syntax: CommandSyntax;
  readonly lenient: boolean;
}

function isWhitespace(code: number, lenient: boolean): boolean {
  return code === 32 || (lenient && code === 9);
}

/** Lenient mode: leading and trailing SP/HTAB do not count. */
function trimWhitespace(text: string): string {
  const first = text.charCodeAt(0);
  const last = text.charCodeAt(text.length - 1);
  return first === 32 || first === 9 || last === 32 || last === 9
    ? text.replace(/^[ \t]+|[ \t]+$/g, '')
    : text;
}

/** Case-insensitive match of a lower-case ASCII `keyword` (letters and ":") at text[at]. */
function matchesKeyword(text: string, at: number, keyword: string): boolean {
  if (text.length < at + keyword.length) return false;
  for (let index = 0; index < keyword.length; index++) {
    if ((text.charCodeAt(at + index) | 0x20) !== keyword.charCodeAt(index)) return false;
  }
  return true;
}

function skipWhitespace(text: string, index: number, lenient: boolean): number {
  let position = index;
  if (lenient) while (position < text.length && isWhitespace(text.charCodeAt(position), true)) position++;
  return position;
}

/** C0 controls and DEL have no place in a command argument (bare CR/LF would smuggle a second line). */
const controlCharacter = /[\u0000-\u0008\u000a-\u001f\u007f]/;
const tabCharacter = /\t/;

/**
 * Parses one command line, given without its CRLF. Never throws: a bad line is `{ ok: false, reply }`
 * with the catalogue reply to send (500 unknown verb, 501 bad arguments, 553 non-ASCII address...).
 */
export function parseCommand(line: Uint8Array, syntax: CommandSyntax = defaultSyntax): ParseResult<Command> {
  // Hot path: DATA, QUIT, RSET and NOOP without argument, read from the bytes with no decoding.
  // (`byte | 0x20` is a lower-case letter only for that letter in either case, so no other line matches.)
  switch (packVerbBytes(line)) {
    case verbCodes.data:
      return bareCommands.DATA;
    case verbCodes.quit:
      return bareCommands.QUIT;
    case verbCodes.rset:
      return bareCommands.RSET;
    case verbCodes.noop:
      return bareCommands.NOOP;
  }
  let text = decodeUtf8Strict(line);
  const validUtf8 = text !== null;
  // Malformed UTF-8 still gets parsed byte for byte, so 8-bit junk in a path is answered like any
  // other non-ASCII address (553 without SMTPUTF8).
  if (text === null) text = decodeLatin1(line);
  // A NUL byte decodes to U+0000 either way (strict UTF-8 has no other encoding of it); searching the
  // short string is cheaper than searching the bytes.
  if (text.includes('\u0000')) return rejection('nulInCommand');
  const ascii = validUtf8 && text.length === line.length;
  const lenient = syntax.mode === 'lenient';
  if (lenient) text = trimWhitespace(text);

  let verbEnd = text.indexOf(' ');
  if (lenient) {
    const tab = text.indexOf('\t');
    if (tab !== -1 && (verbEnd === -1 || tab < verbEnd)) verbEnd = tab;
  }
  if (verbEnd === -1) verbEnd = text.length;
  if (!ascii) {
    for (let index = 0; index < verbEnd; index++)
      if (text.charCodeAt(index) > 0x7e) return rejection('syntaxError');
  }
  const argumentStart = verbEnd < text.length ? skipWhitespace(text, verbEnd + 1, lenient) : verbEnd;
  const command: CommandLine = { text, verbEnd, argumentStart, ascii, validUtf8, syntax, lenient };

  if (verbEnd === 4) {
    switch (packVerb(text)) {
      case verbCodes.mail:
        return parseMail(command);
      case verbCodes.rcpt:
        return parseRcpt(command);
      case verbCodes.data:
        return verbEnd === text.length ? bareCommands.DATA : rejection('syntaxErrorInParameters');
      case verbCodes.quit:
        return verbEnd === text.length ? bareCommands.QUIT : rejection('syntaxErrorInParameters');
      case verbCodes.rset:
        return verbEnd === text.length ? bareCommands.RSET : rejection('syntaxErrorInParameters');
      case verbCodes.ehlo:
        return parseHello('EHLO', command);
      case verbCodes.helo:
        return parseHello('HELO', command);
      case verbCodes.lhlo:
        return parseHello('LHLO', command);
      case verbCodes.bdat:
        return parseBdat(command);
      case verbCodes.auth:
        return parseAuth(command);
      case verbCodes.noop:
        return parseText('NOOP', command, false);
      case verbCodes.help:
        return parseText('HELP', command, false);
      case verbCodes.vrfy:
        return parseText('VRFY', command, true);
      case verbCodes.expn:
        return parseText('EXPN', command, true);
      case verbCodes.etrn:
        return parseText('ETRN', command, true);
    }
  } else if (verbEnd === 8 && matchesKeyword(text, 0, 'starttls')) {
    return verbEnd === text.length ? bareCommands.STARTTLS : rejection('syntaxErrorInParameters');
  } else if (verbEnd === 7 && matchesKeyword(text, 0, 'xclient')) {
    return parseXclient(command);
  }
  return rejection('syntaxError');
}

/**
 * Where the path starts after `MAIL FROM:` / `RCPT TO:`; -1 when the keyword is missing. Strict mode:
 * `MAIL SP "FROM:"` exactly; lenient mode also takes spaces after the colon.
 */
function pathStart(command: CommandLine, keyword: string): number {
  const { text, verbEnd, argumentStart, lenient } = command;
  if (verbEnd === text.length || !matchesKeyword(text, argumentStart, keyword)) return -1;
  return skipWhitespace(text, argumentStart + keyword.length, lenient);
}

/** Splits the parameters after a path ending at `end`; an empty list when the line ends there. */
function parametersAfter(
  command: CommandLine,
  end: number,
  options: GrammarOptions,
): EsmtpParameter[] | null {
  const { text, lenient } = command;
  if (end === text.length) return [];
  if (!isWhitespace(text.charCodeAt(end), lenient)) return null;
  return splitParameters(text, skipWhitespace(text, end + 1, lenient), options);
}

/** `"MAIL FROM:" Reverse-path [SP Mail-parameters]` (RFC 5321 §4.1.1.2) */
function parseMail(command: CommandLine): ParseResult<Command> {
  const { text, syntax } = command;
  const start = pathStart(command, 'from:');
  if (start === -1) return rejection('syntaxErrorInParameters');
  const options = optionsFor(command.lenient, syntax.smtpUtf8 && command.validUtf8);
  const scan = readReversePath(text, start, text.length, options);
  if (typeof scan === 'string') return rejectGrammar(scan, 'badSenderAddressSyntax');
  let parameters = noMailParameters;
  if (scan.end !== text.length) {
    const list = parametersAfter(command, scan.end, options);
    const typed = list === null ? null : typeMailParameters(list);
    if (typed === null) return rejection('syntaxErrorInParameters');
    parameters = typed;
  }
  // RFC 6531 §3.4: UTF-8 in the envelope only when the server offers SMTPUTF8 and MAIL asks for it.
  if (!command.ascii && parameters.smtpUtf8 !== true) return rejection('utf8WithoutSmtpUtf8');
  return { ok: true, value: { verb: 'MAIL', from: scan.path, parameters } };
}

/** `"RCPT TO:" ( "<Postmaster@" Domain ">" / "<Postmaster>" / Forward-path ) [SP Rcpt-parameters]` (§4.1.1.3) */
function parseRcpt(command: CommandLine): ParseResult<Command> {
  const { text, syntax } = command;
  const start = pathStart(command, 'to:');
  if (start === -1) return rejection('syntaxErrorInParameters');
  const options = optionsFor(command.lenient, syntax.smtpUtf8 && command.validUtf8);
  const scan = readForwardPath(text, start, text.length, options);
  if (typeof scan === 'string') return rejectGrammar(scan, 'badAddressSyntax');
  let parameters = noRcptParameters;
  if (scan.end !== text.length) {
    const list = parametersAfter(command, scan.end, options);
    const typed = list === null ? null : typeRcptParameters(list, command.lenient);
    if (typed === null) return rejection('syntaxErrorInParameters');
    parameters = typed;
  }
  if (!command.ascii && !options.utf8) return rejection('utf8WithoutSmtpUtf8');
  return { ok: true, value: { verb: 'RCPT', to: scan.path, parameters } };
}

/**
 * Lenient HELO/EHLO: real clients send bare IP addresses, names with "_" or other junk; accept any
 * token of visible characters as the name (IPv6 without brackets becomes an ipv6 literal).
 */
function lenientClientName(token: string, utf8: boolean): Domain | null {
  if (isIpv6Address(token, true)) return { kind: 'ipv6', address: token };
  for (let index = 0; index < token.length; index++) {
    const code = token.charCodeAt(index);
    if (code <= 32 || code === 127 || (code > 127 && (!utf8 || code < 0xa0))) return null;
  }
  return { kind: 'name', name: token };
}

/** `"EHLO" SP ( Domain / address-literal )`, same for HELO (RFC 5321 §4.1.1.1) and LHLO (RFC 2033). */
function parseHello(verb: HelloVerb, command: CommandLine): ParseResult<Command> {
  const { text, argumentStart, lenient } = command;
  if (argumentStart >= text.length) return rejection('syntaxErrorInParameters');
  const utf8 = command.syntax.smtpUtf8 && command.validUtf8;
  let end = text.length;
  if (lenient) {
    // Anything after the first token (a comment some clients add) is ignored.
    for (let index = argumentStart; index < text.length; index++) {
      if (isWhitespace(text.charCodeAt(index), true)) {
        end = index;
        break;
      }
    }
  }
  let client: Domain | null = null;
  const domain = readDomain(text, argumentStart, end, optionsFor(lenient, utf8));
  if (typeof domain !== 'string') client = domain;
  else if (lenient) client = lenientClientName(text.slice(argumentStart, end), utf8);
  return client === null ? rejection('syntaxErrorInParameters') : { ok: true, value: { verb, client } };
}

/** NOOP/HELP [SP String], VRFY/EXPN SP String (RFC 5321 §4.1.1.6-§4.1.1.9), ETRN SP node (RFC 1985). */
function parseText(
  verb: 'NOOP' | 'HELP' | 'VRFY' | 'EXPN' | 'ETRN',
  command: CommandLine,
  required: boolean,
): ParseResult<Command> {
  const { text, lenient } = command;
  const argument = text.slice(command.argumentStart);
  if (required && argument.trim().length === 0) return rejection('syntaxErrorInParameters');
  if (controlCharacter.test(argument) || (!lenient && tabCharacter.test(argument))) {
    return rejection('syntaxErrorInParameters');
  }
  if (!command.ascii && !(command.syntax.smtpUtf8 && command.validUtf8))
    return rejection('syntaxErrorInParameters');
  // Lenient mode reads a tab as a space; writing it back as a space keeps the command on the grammar.
  return { ok: true, value: { verb, argument: lenient ? argument.replace(tabsGlobal, ' ') : argument } };
}

const tabsGlobal = /\t/g;

/** RFC 4422 §3.1 mechanism names: 1*20 upper-case letters, digits, "-" and "_"; we accept any case. */
const mechanismPattern = /^[A-Za-z0-9_-]{1,20}$/;

/** `"AUTH" SP sasl-mech [SP initial-response]`, initial-response = base64 / "=" (RFC 4954 §4). */
function parseAuth(command: CommandLine): ParseResult<Command> {
  const { text, argumentStart, lenient } = command;
  if (argumentStart >= text.length || !command.ascii) return rejection('syntaxErrorInParameters');
  let mechanismEnd = argumentStart;
  while (mechanismEnd < text.length && !isWhitespace(text.charCodeAt(mechanismEnd), lenient)) mechanismEnd++;
  const mechanism = text.slice(argumentStart, mechanismEnd);
  if (!mechanismPattern.test(mechanism)) return rejection('syntaxErrorInParameters');
  let initialResponse: Uint8Array | null = null;
  if (mechanismEnd < text.length) {
    const response = text.slice(skipWhitespace(text, mechanismEnd + 1, lenient));
    if (response === '=') initialResponse = new Uint8Array(0);
    else {
      if (response.length === 0 || response.includes(' ') || response.includes('\t')) {
        return rejection('syntaxErrorInParameters');
      }
      initialResponse = decodeBase64(response);
      if (initialResponse === null) return rejection('authMalformed');
    }
  }
  return { ok: true, value: { verb: 'AUTH', mechanism: mechanism.toUpperCase(), initialResponse } };
}

/** `"BDAT" SP chunk-size [SP end-marker]`, end-marker = "LAST" (RFC 3030 §2). */
function parseBdat(command: CommandLine): ParseResult<Command> {
  const { text, argumentStart, lenient } = command;
  let sizeEnd = argumentStart;
  while (sizeEnd < text.length && !isWhitespace(text.charCodeAt(sizeEnd), lenient)) sizeEnd++;
  const digits = sizeEnd - argumentStart;
  if (digits === 0 || digits > 16) return rejection('syntaxErrorInParameters');
  let size = 0;
  for (let index = argumentStart; index < sizeEnd; index++) {
    const code = text.charCodeAt(index);
    if (code < 48 || code > 57) return rejection('syntaxErrorInParameters');
    size = size * 10 + (code - 48);
  }
  if (size > Number.MAX_SAFE_INTEGER) return rejection('syntaxErrorInParameters');
  let last = false;
  if (sizeEnd < text.length) {
    const markerStart = skipWhitespace(text, sizeEnd + 1, lenient);
    if (text.length - markerStart !== 4 || !matchesKeyword(text, markerStart, 'last')) {
      return rejection('syntaxErrorInParameters');
    }
    last = true;
  }
  return { ok: true, value: { verb: 'BDAT', size, last } };
}

const attributeName = /^[A-Za-z][A-Za-z0-9-]*$/;

/** `"XCLIENT" 1*( SP attribute-name "=" attribute-value )`, values xtext (Postfix XCLIENT_README). */
function parseXclient(command: CommandLine): ParseResult<Command> {
  const { text, argumentStart, lenient } = command;
  if (argumentStart >= text.length || !command.ascii) return rejection('syntaxErrorInParameters');
  const attributes = new Map<string, string>();
  let index = argumentStart;
  while (index < text.length) {
    let end = index;
    while (end < text.length && !isWhitespace(text.charCodeAt(end), lenient)) end++;
    const token = text.slice(index, end);
    const equals = token.indexOf('=');
    const name = equals === -1 ? '' : token.slice(0, equals).toUpperCase();
    const value = equals === -1 ? null : decodeXtext(token.slice(equals + 1));
    if (!attributeName.test(name) || value === null || attributes.has(name))
      return rejection('syntaxErrorInParameters');
    attributes.set(name, value);
    if (end === text.length) break;
    index = skipWhitespace(text, end + 1, lenient);
    if (index === text.length) return rejection('syntaxErrorInParameters'); // strict: a trailing SP
  }
  return { ok: true, value: { verb: 'XCLIENT', attributes } };
}
