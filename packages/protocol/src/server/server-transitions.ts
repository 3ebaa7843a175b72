import type { Verb } from '../command/command.js';
import type { ReplyName } from '../reply/reply-catalog.js';

/**
 * Every command transition of the server lives here (h11 "Rule 1"): the phase a command may arrive in,
 * what it does there, and the guards that apply before the table. Readers for the other phases (DATA,
 * BDAT, AUTH continuation, the TLS handshake) are chosen by phase in server-session.ts; they never see
 * commands.
 */

/** The phases in which input is read as command lines. */
export type CommandPhase = 'greeting' | 'ready' | 'transaction';

const serverActions = [
  'hello',
  'mail',
  'rcpt',
  'data',
  'bdat',
  'rset',
  'noop',
  'quit',
  'help',
  'vrfy',
  'expn',
  'etrn',
  'auth',
  'starttls',
  'xclient',
] as const;

/** What a command does when it is in sequence. Handled in server-session.ts, one method each. */
export type ServerAction = (typeof serverActions)[number];

/** An action, or the catalogue reply that refuses the command. */
export type Transition = ServerAction | ReplyName;

const serverActionSet: ReadonlySet<string> = new Set(serverActions);

/** Some action names are also catalogue entries ('help'), so actions are listed, not inferred. */
export function isServerAction(transition: string): transition is ServerAction {
  return serverActionSet.has(transition);
}

// Commands that are always in sequence: RFC 5321 §4.1.4 (RSET, NOOP, QUIT, HELP, VRFY, EXPN "any time").
const anyTime = {
  RSET: 'rset',
  NOOP: 'noop',
  QUIT: 'quit',
  HELP: 'help',
  VRFY: 'vrfy',
  EXPN: 'expn',
} as const satisfies Partial<Record<Verb, Transition>>;

/**
 * The table, keyed by (phase, verb). RFC 5321 §4.1.4 for the order of commands; a HELO/EHLO/LHLO in a
 * transaction resets it like RSET (§4.1.4). RFC 4954 §4: no AUTH during a transaction. RFC 3030 §3:
 * BDAT only after a RCPT.
 */
export const serverTransitions = {
  greeting: {
    ...anyTime,
    EHLO: 'hello',
    HELO: 'hello',
    LHLO: 'hello',
    MAIL: 'helloFirst',
    RCPT: 'helloFirst',
    DATA: 'helloFirst',
    BDAT: 'helloFirst',
    AUTH: 'helloFirst',
    STARTTLS: 'helloFirst',
    ETRN: 'helloFirst',
    XCLIENT: 'xclient', // Postfix accepts XCLIENT before EHLO: a proxy sends it first
  },
  ready: {
    ...anyTime,
    EHLO: 'hello',
    HELO: 'hello',
    LHLO: 'hello',
    MAIL: 'mail',
    RCPT: 'mailFirst',
    DATA: 'mailFirst',
    BDAT: 'mailFirst',
    AUTH: 'auth',
    STARTTLS: 'starttls',
    ETRN: 'etrn',
    XCLIENT: 'xclient',
  },
  transaction: {
    ...anyTime,
    EHLO: 'hello',
    HELO: 'hello',
    LHLO: 'hello',
    MAIL: 'nestedMail',
    RCPT: 'rcpt',
    DATA: 'data',
    BDAT: 'bdat',
    AUTH: 'authNotDuringTransaction',
    STARTTLS: 'badSequence',
    ETRN: 'badSequence', // RFC 1985 §5: not within a transaction
    XCLIENT: 'badSequence',
  },
} as const satisfies Record<CommandPhase, Record<Verb, Transition>>;

/** RFC 3207 §4 with requireTls: what may precede TLS. Everything else is refused with 530 5.7.0. */
export const verbsBeforeTls: ReadonlySet<Verb> = new Set<Verb>([
  'EHLO',
  'HELO',
  'LHLO',
  'STARTTLS',
  'NOOP',
  'RSET',
  'QUIT',
]);

/** The option that must be on for the verb to exist at all; otherwise 502 (RFC 5321 §4.2.4). */
export const verbExtensions = {
  STARTTLS: 'startTls',
  AUTH: 'auth',
  BDAT: 'chunking',
  ETRN: 'etrn',
  XCLIENT: 'xclient',
  VRFY: 'vrfy',
  EXPN: 'vrfy',
} as const satisfies Partial<Record<Verb, string>>;

export type VerbExtension = (typeof verbExtensions)[keyof typeof verbExtensions];

/** What the guards need to know about the session. */
export interface TransitionContext {
  readonly isLmtp: boolean;
  /** The greeting was 554: only QUIT is in sequence (RFC 5321 §3.1). */
  readonly isRefused: boolean;
  /** requireTls is on and TLS is not active yet. */
  readonly isTlsMissing: boolean;
  readonly isTlsActive: boolean;
  /** The verb's extension is configured (verbExtensions). */
  isVerbAvailable(verb: keyof typeof verbExtensions): boolean;
}

/**
 * The transition for a parsed command: the guards in order, then the table.
 * 1. a refused session takes only QUIT; 2. the protocol's greeting verb (LHLO for LMTP, RFC 2033 §4.1;
 * EHLO/HELO for SMTP), others are unknown commands; 3. requireTls; 4. verbs of disabled extensions (STARTTLS under TLS: 503);
 * 5. the (phase, verb) table.
 */
export function findTransition(phase: CommandPhase, verb: Verb, context: TransitionContext): Transition {
  if (context.isRefused) return verb === 'QUIT' ? 'quit' : 'badSequence';
  if (context.isLmtp ? verb === 'EHLO' || verb === 'HELO' : verb === 'LHLO') return 'syntaxError';
  if (context.isTlsMissing && !verbsBeforeTls.has(verb)) return 'tlsRequired';
  if (verb in verbExtensions && !context.isVerbAvailable(verb as keyof typeof verbExtensions)) {
    return 'commandNotImplemented';
  }
  if (verb === 'STARTTLS' && context.isTlsActive) return 'alreadyTls';
  return serverTransitions[phase][verb];
}
