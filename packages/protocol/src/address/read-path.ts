// RFC 5321 §4.1.2 Path = "<" [ A-d-l ":" ] Mailbox ">", Reverse-path = Path / "<>",
// Forward-path = Path / "<Postmaster>" (§4.1.1.3). Scanners return where they stopped so the command
// parser can go on with the parameters without copying the line.

import { utf8ByteLength } from '../bytes/utf8.js';
import type { GrammarFailure, GrammarOptions } from './grammar-options.js';
import { readLocalPart } from './local-part.js';
import type { ForwardPath, Mailbox, ReversePath } from './mailbox.js';
import { findDomainEnd, readDomain } from './read-domain.js';

/** RFC 5321 §4.5.3.1.3: "<", ">" and any source route included. */
export const maxPathOctets = 256;

export interface MailboxScan {
  readonly mailbox: Mailbox;
  readonly end: number;
}

export interface PathScan<Path> {
  readonly path: Path;
  readonly end: number;
}

/** Reads `Local-part "@" ( Domain / address-literal )` from `start`; the domain stops at `terminator`. */
export function readMailbox(
  text: string,
  start: number,
  limit: number,
  terminator: string,
  options: GrammarOptions,
): MailboxScan | GrammarFailure {
  const local = readLocalPart(text, start, limit, options);
  if (typeof local === 'string') return local;
  const domainStart = local.end + 1;
  const domainEnd = findDomainEnd(text, domainStart, limit, terminator);
  const domain = readDomain(text, domainStart, domainEnd, options);
  if (typeof domain === 'string') return domain;
  return { mailbox: { localPart: local.localPart, domain }, end: domainEnd };
}

/**
 * RFC 5321 Appendix C / §4.1.1.3: a source route `@a,@b:` must be accepted and SHOULD be ignored.
 * At-domain = "@" Domain (never a literal). Returns the index after the ":".
 */
function skipSourceRoute(
  text: string,
  start: number,
  limit: number,
  options: GrammarOptions,
): number | GrammarFailure {
  let index = start;
  for (;;) {
    if (text.charCodeAt(index) !== 64) return 'syntax';
    let end = index + 1;
    while (end < limit) {
      const code = text.charCodeAt(end);
      if (code === 44 || code === 58 || code === 62) break;
      end++;
    }
    const separator = text.charCodeAt(end);
    if (end >= limit || separator === 62 || text.charCodeAt(index + 1) === 91) return 'syntax';
    const domain = readDomain(text, index + 1, end, options);
    if (typeof domain === 'string') return domain;
    if (separator === 58) return end + 1;
    index = end + 1;
  }
}

/** "Postmaster", case-insensitively (RFC 5321 §4.1.1.3, §4.5.1), at text[start, start + 10). */
function isPostmaster(text: string, start: number): boolean {
  if (text.length < start + 10) return false;
  for (let index = 0; index < 10; index++) {
    if ((text.charCodeAt(start + index) | 0x20) !== postmaster.charCodeAt(index)) return false;
  }
  return true;
}
const postmaster = 'postmaster';

function pathOctets(text: string, start: number, end: number, options: GrammarOptions): number {
  return options.utf8 ? utf8ByteLength(text, start, end) : end - start;
}

/** Lenient mode: a path written without angle brackets ends at the next space. */
function readBarePath(
  text: string,
  start: number,
  limit: number,
  role: 'reverse' | 'forward',
  options: GrammarOptions,
): PathScan<ForwardPath> | GrammarFailure {
  let end = text.indexOf(' ', start);
  if (end === -1 || end > limit) end = limit;
  if (end === start) return 'syntax';
  if (role === 'forward' && end - start === 10 && isPostmaster(text, start))
    return { path: 'Postmaster', end };
  const scan = readMailbox(text, start, end, ' ', options);
  if (typeof scan === 'string') return scan;
  return scan.end === end ? { path: scan.mailbox, end } : 'syntax';
}

function readPath(
  text: string,
  start: number,
  limit: number,
  role: 'reverse' | 'forward',
  options: GrammarOptions,
): PathScan<ReversePath | ForwardPath> | GrammarFailure {
  if (text.charCodeAt(start) !== 60)
    return options.lenient ? readBarePath(text, start, limit, role, options) : 'syntax';
  let index = start + 1;
  if (text.charCodeAt(index) === 62) return role === 'reverse' ? { path: null, end: index + 1 } : 'syntax';
  let path: Mailbox | 'Postmaster';
  let mailboxEnd: number;
  if (role === 'forward' && isPostmaster(text, index) && text.charCodeAt(index + 10) === 62) {
    path = 'Postmaster';
    mailboxEnd = index + 10;
  } else {
    if (text.charCodeAt(index) === 64) {
      const routeEnd = skipSourceRoute(text, index, limit, options);
      if (typeof routeEnd === 'string') return routeEnd;
      index = routeEnd;
    }
    const scan = readMailbox(text, index, limit, '>', options);
    if (typeof scan === 'string') return scan;
    path = scan.mailbox;
    mailboxEnd = scan.end;
  }
  if (mailboxEnd >= limit || text.charCodeAt(mailboxEnd) !== 62) return 'syntax';
  const end = mailboxEnd + 1;
  if (!options.lenient && pathOctets(text, start, end, options) > maxPathOctets) return 'length';
  return { path, end };
}

export function readReversePath(
  text: string,
  start: number,
  limit: number,
  options: GrammarOptions,
): PathScan<ReversePath> | GrammarFailure {
  return readPath(text, start, limit, 'reverse', options) as PathScan<ReversePath> | GrammarFailure;
}

export function readForwardPath(
  text: string,
  start: number,
  limit: number,
  options: GrammarOptions,
): PathScan<ForwardPath> | GrammarFailure {
  return readPath(text, start, limit, 'forward', options) as PathScan<ForwardPath> | GrammarFailure;
}
