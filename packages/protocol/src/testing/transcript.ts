// The `.smtp` transcript notation (house guide §2.6): one notation for fixtures, the CLI transcript and the
// server debug log, so a real session can be pasted in as a test.
//
//   # comment                      ignored (so are blank lines)
//   @server key=value key2 …       options for the server replay (see replay-server.ts for the keys)
//   @client key=value …            options for the client replay
//   @random [server|client] <hex>  fixed bytes for the `random` option (both sides when no side is named)
//   S: text                        a server line, matched byte for byte (CRLF appended)
//   C: text                        a client line (CRLF appended); "C:" alone is an empty line
//   C| raw                         raw client bytes, no CRLF; escapes \r \n \t \0 \\ \xNN
//   H: decision                    the handler's decision for the pending event the C line above raised:
//                                    accept [text] | reject <code> [x.y.z] <text>
//                                    | secret <password> [salt=<base64>] [iterations=<n>]
//                                    | accept-each <code> [x.y.z] <text> ; <code> … (LMTP, one per recipient)
//   == tls ==                      the TLS handshake happens here
//   == close ==                    the client closes the connection (receiveEnd)
//   == timeout ==  == shutdown ==  the I/O layer's timer fires / the server shuts down

import { encodeUtf8 } from '../bytes/utf8.js';
import type { EnhancedStatus, ReplyInit } from '../reply/reply.js';

export interface Transcript {
  /** `@server` options as written, keys as given (values "" for bare keys). Later directives add to earlier ones. */
  readonly server: ReadonlyMap<string, string>;
  /** `@client` options as written. */
  readonly client: ReadonlyMap<string, string>;
  /** `@random` bytes per side, null when not given. */
  readonly random: { readonly server: Uint8Array | null; readonly client: Uint8Array | null };
  readonly steps: readonly TranscriptStep[];
}

export type TranscriptStep =
  | {
      readonly kind: 'client';
      /** The bytes on the wire, CRLF included for `C:` lines. */
      readonly bytes: Uint8Array;
      /** The line as written after the prefix (escapes not decoded for `C|`). */
      readonly text: string;
      readonly raw: boolean;
      readonly lineNumber: number;
    }
  | { readonly kind: 'server'; readonly text: string; readonly lineNumber: number }
  | {
      readonly kind: 'handler';
      readonly decision: HandlerDecision;
      readonly text: string;
      readonly lineNumber: number;
    }
  | { readonly kind: 'tls' | 'close' | 'timeout' | 'shutdown'; readonly lineNumber: number };

export type HandlerDecision =
  | { readonly type: 'accept'; readonly text: string | null }
  | { readonly type: 'reject'; readonly reply: ReplyInit }
  /** For SCRAM the replay derives stored credentials from the password, salt (base64) and iterations. */
  | {
      readonly type: 'secret';
      readonly password: string;
      readonly salt: string | null;
      readonly iterations: number | null;
    }
  | { readonly type: 'accept-each'; readonly replies: readonly ReplyInit[] };

const markers = new Map<string, 'tls' | 'close' | 'timeout' | 'shutdown'>([
  ['== tls ==', 'tls'],
  ['== close ==', 'close'],
  ['== timeout ==', 'timeout'],
  ['== shutdown ==', 'shutdown'],
]);

/** Parses a `.smtp` transcript. A malformed fixture is the test author's mistake: it throws an Error naming the line. */
export function parseTranscript(text: string): Transcript {
  const server = new Map<string, string>();
  const client = new Map<string, string>();
  const random: { server: Uint8Array | null; client: Uint8Array | null } = { server: null, client: null };
  const steps: TranscriptStep[] = [];
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const lineNumber = index + 1;
    let line = lines[index] as string;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    const fail = (reason: string): never => {
      throw new Error(`transcript line ${lineNumber}: ${reason}: ${JSON.stringify(line)}`);
    };
    if (line.trim() === '' || line.startsWith('#')) continue;
    const marker = markers.get(line.trim());
    if (marker !== undefined) {
      steps.push({ kind: marker, lineNumber });
      continue;
    }
    if (line.startsWith('@server') || line.startsWith('@client')) {
      const into = line.startsWith('@server') ? server : client;
      for (const [key, value] of parseDirectiveOptions(line.slice(7), fail)) into.set(key, value);
      continue;
    }
    if (line.startsWith('@random')) {
      const words = line.slice(7).trim().split(/\s+/);
      const side = words[0] === 'server' || words[0] === 'client' ? words.shift() : undefined;
      const bytes = parseHex(words.join(''), fail);
      if (side !== 'client') random.server = bytes;
      if (side !== 'server') random.client = bytes;
      continue;
    }
    const prefix = line.slice(0, 2);
    const rest = line.length > 2 && line[2] === ' ' ? line.slice(3) : line.slice(2);
    switch (prefix) {
      case 'C:':
        steps.push({ kind: 'client', bytes: encodeUtf8(`${rest}\r\n`), text: rest, raw: false, lineNumber });
        break;
      case 'C|':
        steps.push({ kind: 'client', bytes: unescapeRaw(rest, fail), text: rest, raw: true, lineNumber });
        break;
      case 'S:':
        steps.push({ kind: 'server', text: rest, lineNumber });
        break;
      case 'H:':
        steps.push({ kind: 'handler', decision: parseDecision(rest, fail), text: rest, lineNumber });
        break;
      default:
        fail('unknown line kind');
    }
  }
  return { server, client, random, steps };
}

/** `key=value`, `key="quoted value"` or a bare `key` (value ""). */
function parseDirectiveOptions(text: string, fail: (reason: string) => never): Map<string, string> {
  const options = new Map<string, string>();
  const pattern = /\s*([A-Za-z0-9_-]+)(?:=("(?:[^"\\]|\\.)*"|\S*))?/y;
  let rest = text.trimEnd();
  while (rest.trim() !== '') {
    pattern.lastIndex = 0;
    const match = pattern.exec(rest);
    if (match === null) fail('bad directive option');
    const [whole, key, value = ''] = match as RegExpExecArray;
    options.set(key as string, value.startsWith('"') ? value.slice(1, -1).replace(/\\(.)/g, '$1') : value);
    rest = rest.slice(whole.length);
  }
  return options;
}

function parseHex(text: string, fail: (reason: string) => never): Uint8Array {
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(text)) fail('@random wants an even number of hex digits');
  const bytes = new Uint8Array(text.length / 2);
  for (let index = 0; index < bytes.length; index++)
    bytes[index] = Number.parseInt(text.slice(index * 2, index * 2 + 2), 16);
  return bytes;
}

const simpleEscapes: Record<string, number> = { r: 0x0d, n: 0x0a, t: 0x09, '0': 0x00, '\\': 0x5c };

/** `C|` text → bytes: UTF-8, with \r \n \t \0 \\ and \xNN escapes. */
function unescapeRaw(text: string, fail: (reason: string) => never): Uint8Array {
  const bytes: number[] = [];
  for (let index = 0; index < text.length; index++) {
    const char = text[index] as string;
    if (char !== '\\') {
      for (const byte of encodeUtf8(char)) bytes.push(byte);
      continue;
    }
    const next = text[index + 1] ?? '';
    const simple = simpleEscapes[next];
    if (simple !== undefined) {
      bytes.push(simple);
      index += 1;
    } else if (next === 'x' && /^[0-9a-fA-F]{2}$/.test(text.slice(index + 2, index + 4))) {
      bytes.push(Number.parseInt(text.slice(index + 2, index + 4), 16));
      index += 3;
    } else {
      fail(`bad escape \\${next}`);
    }
  }
  return Uint8Array.from(bytes);
}

const replyPattern = /^([2-5]\d\d)(?: ([245]\.\d{1,3}\.\d{1,3})(?= |$))?(?: (.*))?$/;

function parseReplyInit(text: string, fail: (reason: string) => never): ReplyInit {
  const match = replyPattern.exec(text.trim());
  if (match === null) fail('expected <code> [x.y.z] <text>');
  const [, code, enhanced, replyText = ''] = match as RegExpExecArray;
  return enhanced === undefined
    ? { code: Number(code), text: replyText }
    : { code: Number(code), enhanced: enhanced as EnhancedStatus, text: replyText };
}

function parseDecision(text: string, fail: (reason: string) => never): HandlerDecision {
  const space = text.indexOf(' ');
  const word = space === -1 ? text : text.slice(0, space);
  const rest = space === -1 ? '' : text.slice(space + 1);
  switch (word) {
    case 'accept':
      return { type: 'accept', text: rest === '' ? null : rest };
    case 'reject':
      return { type: 'reject', reply: parseReplyInit(rest, fail) };
    case 'secret': {
      const [password = '', ...options] = rest.split(' ');
      let salt: string | null = null;
      let iterations: number | null = null;
      for (const option of options) {
        if (option.startsWith('salt=')) salt = option.slice(5);
        else if (/^iterations=\d+$/.test(option)) iterations = Number(option.slice(11));
        else fail('secret takes <password> [salt=<base64>] [iterations=<n>]');
      }
      return { type: 'secret', password, salt, iterations };
    }
    case 'accept-each':
      return { type: 'accept-each', replies: rest.split(';').map((part) => parseReplyInit(part, fail)) };
    default:
      return fail('unknown handler decision (accept, reject, secret, accept-each)');
  }
}

/** Renders steps back into the notation (directives left out): what replays compare, so diffs read like the fixture. */
export function renderTranscriptStep(step: TranscriptStep): string {
  switch (step.kind) {
    case 'client':
      return step.raw ? `C| ${step.text}` : `C: ${step.text}`;
    case 'server':
      return `S: ${step.text}`;
    case 'handler':
      return `H: ${step.text}`;
    default:
      return `== ${step.kind} ==`;
  }
}
