import type { CommandSyntax } from '../command/command.js';
import { rejectGrammar, rejection } from '../command/rejection.js';
import type { ParseResult } from '../parse-result.js';
import type { GrammarOptions } from './grammar-options.js';
import type { Domain, ForwardPath, Mailbox, ReversePath } from './mailbox.js';
import { readDomain } from './read-domain.js';
import { readForwardPath, readMailbox, readReversePath } from './read-path.js';

function grammarOptions(syntax: CommandSyntax): GrammarOptions {
  return { lenient: syntax.mode === 'lenient', utf8: syntax.smtpUtf8 };
}

/** Lenient mode forgives surrounding spaces and tabs; strict mode takes the text exactly. */
function trimmed(text: string, syntax: CommandSyntax): string {
  return syntax.mode === 'lenient' ? text.replace(/^[ \t]+|[ \t]+$/g, '') : text;
}

/** A whole reverse-path: `<mailbox>`, `<>`, or (lenient) a bare mailbox. Bad syntax → 501 5.1.7. */
export function parseReversePath(text: string, syntax: CommandSyntax): ParseResult<ReversePath> {
  const input = trimmed(text, syntax);
  const scan = readReversePath(input, 0, input.length, grammarOptions(syntax));
  if (typeof scan === 'string') return rejectGrammar(scan, 'badSenderAddressSyntax');
  if (scan.end !== input.length) return rejection('badSenderAddressSyntax');
  return { ok: true, value: scan.path };
}

/** A whole forward-path: `<mailbox>`, `<Postmaster>`, or (lenient) a bare mailbox. Bad syntax → 501 5.1.3. */
export function parseForwardPath(text: string, syntax: CommandSyntax): ParseResult<ForwardPath> {
  const input = trimmed(text, syntax);
  const scan = readForwardPath(input, 0, input.length, grammarOptions(syntax));
  if (typeof scan === 'string') return rejectGrammar(scan, 'badAddressSyntax');
  if (scan.end !== input.length) return rejection('badAddressSyntax');
  return { ok: true, value: scan.path };
}

/** `local-part@domain` without angle brackets. Bad syntax → 501 5.1.3. */
export function parseMailbox(text: string, syntax: CommandSyntax): ParseResult<Mailbox> {
  const input = trimmed(text, syntax);
  const scan = readMailbox(input, 0, input.length, '\u0000', grammarOptions(syntax));
  if (typeof scan === 'string') return rejectGrammar(scan, 'badAddressSyntax');
  if (scan.end !== input.length) return rejection('badAddressSyntax');
  return { ok: true, value: scan.mailbox };
}

/** A domain name or an address literal (`[192.0.2.1]`, `[IPv6:2001:db8::1]`, `[tag:content]`). Bad → 501 5.5.4. */
export function parseDomain(text: string, syntax: CommandSyntax): ParseResult<Domain> {
  const input = trimmed(text, syntax);
  const domain = readDomain(input, 0, input.length, grammarOptions(syntax));
  if (typeof domain === 'string') return rejectGrammar(domain, 'syntaxErrorInParameters');
  return { ok: true, value: domain };
}
