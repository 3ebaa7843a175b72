import type { Pop3ReplyName } from './pop3-replies.js';

/** One POP3 command line (RFC 1939 §3, RFC 2449 CAPA, RFC 2595 STLS, RFC 5034 AUTH), parsed. */
export type Pop3Command =
  | { readonly keyword: 'USER'; readonly username: string }
  | { readonly keyword: 'PASS'; readonly password: string }
  | { readonly keyword: 'AUTH'; readonly mechanism: string | null; readonly initialResponse: string | null }
  | { readonly keyword: 'STAT' | 'NOOP' | 'RSET' | 'QUIT' | 'CAPA' | 'STLS' }
  | { readonly keyword: 'LIST' | 'UIDL'; readonly messageNumber: number | null }
  | { readonly keyword: 'RETR' | 'DELE'; readonly messageNumber: number }
  | { readonly keyword: 'TOP'; readonly messageNumber: number; readonly lineCount: number };

export type Pop3CommandResult =
  | { readonly ok: true; readonly command: Pop3Command }
  | { readonly ok: false; readonly reply: Extract<Pop3ReplyName, 'unknownCommand' | 'badArguments'> };

const badArguments = { ok: false, reply: 'badArguments' } as const;
/** Up to 9 digits: numbers beyond any maildrop are answered "no such message", never overflow. */
const numberPattern = /^\d{1,9}$/;

function parseNumber(text: string | undefined): number | null {
  return text !== undefined && numberPattern.test(text) ? Number(text) : null;
}

/**
 * A line without its CRLF → a command. Keywords are case-insensitive (RFC 1939 §3); arguments are
 * separated by single spaces, but runs of spaces are tolerated. PASS takes the rest of the line, so a
 * password may contain spaces (RFC 1939 §7 allows servers this).
 */
export function parsePop3Command(line: string): Pop3CommandResult {
  const space = line.indexOf(' ');
  const keyword = (space === -1 ? line : line.slice(0, space)).toUpperCase();
  const rest = space === -1 ? '' : line.slice(space + 1);
  const words = rest.split(' ').filter((word) => word !== '');
  const command = ((): Pop3Command | null | 'unknown' => {
    switch (keyword) {
      case 'USER':
        return words.length === 1 && words[0] !== undefined ? { keyword, username: words[0] } : null;
      case 'PASS':
        return rest === '' ? null : { keyword, password: rest };
      case 'AUTH':
        if (words.length > 2) return null;
        return { keyword, mechanism: words[0]?.toUpperCase() ?? null, initialResponse: words[1] ?? null };
      case 'STAT':
      case 'NOOP':
      case 'RSET':
      case 'QUIT':
      case 'CAPA':
      case 'STLS':
        return words.length === 0 ? { keyword } : null;
      case 'LIST':
      case 'UIDL': {
        if (words.length === 0) return { keyword, messageNumber: null };
        const messageNumber = parseNumber(words[0]);
        return words.length === 1 && messageNumber !== null ? { keyword, messageNumber } : null;
      }
      case 'RETR':
      case 'DELE': {
        const messageNumber = parseNumber(words[0]);
        return words.length === 1 && messageNumber !== null ? { keyword, messageNumber } : null;
      }
      case 'TOP': {
        const messageNumber = parseNumber(words[0]);
        const lineCount = parseNumber(words[1]);
        return words.length === 2 && messageNumber !== null && lineCount !== null
          ? { keyword, messageNumber, lineCount }
          : null;
      }
      default:
        return 'unknown';
    }
  })();
  if (command === 'unknown') return { ok: false, reply: 'unknownCommand' };
  return command === null ? badArguments : { ok: true, command };
}
