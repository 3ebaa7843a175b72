import type { Verb } from '../command/command.js';
import type { ReplyName } from '../reply/reply-catalog.js';
import type { ServerState } from './server-events.js';

/**
 * Every server transition lives here (h11 "Rule 1"), as data the README's state diagram is generated
 * from: the guards that refuse a command before the table, the (phase, verb) table with the action a
 * command runs and the phase it leads to, and the exits of the phases that do not read commands
 * (message content, AUTH continuation, the TLS handshake). test/server-transitions.test.ts drives a
 * session through every entry and checks it lands where the table says.
 */

export type ServerPhase = ServerState['phase'];

/** The phases in which input is read as command lines (a BDAT message between chunks reads them as 'transaction'). */
export type CommandPhase = 'greeting' | 'ready' | 'transaction';

/** What a command does when it is in sequence. Handled in server-session.ts, one method each. */
export type ServerAction =
  | 'hello'
  | 'mail'
  | 'rcpt'
  | 'data'
  | 'bdat'
  | 'rset'
  | 'noop'
  | 'quit'
  | 'help'
  | 'vrfy'
  | 'expn'
  | 'etrn'
  | 'auth'
  | 'starttls'
  | 'xclient';

/**
 * An in-sequence command: its action, and the phase it leads to when it succeeds (for a command the
 * application decides on, when accept() is called; a refusal by the application or by the action's own
 * checks, such as MAIL parameters, leaves the phase as it was).
 */
export interface ServerStep {
  readonly action: ServerAction;
  readonly next: ServerPhase;
}

/** A step, or the catalogue reply that refuses the command. */
export type Transition = ServerStep | ReplyName;

export function isServerStep(transition: Transition): transition is ServerStep {
  return typeof transition !== 'string';
}

const step = <Action extends ServerAction, Next extends ServerPhase>(action: Action, next: Next) =>
  ({ action, next }) as const;

// Commands that are always in sequence: RFC 5321 §4.1.4 (RSET, NOOP, QUIT, HELP, VRFY, EXPN "any time").
const anyTime = <Phase extends CommandPhase>(phase: Phase, afterReset: CommandPhase) =>
  ({
    RSET: step('rset', afterReset),
    NOOP: step('noop', phase),
    QUIT: step('quit', 'closed'),
    HELP: step('help', phase),
    VRFY: step('vrfy', phase),
    EXPN: step('expn', phase),
  }) as const;

/**
 * The table, keyed by (phase, verb). RFC 5321 §4.1.4 for the order of commands; a HELO/EHLO/LHLO in a
 * transaction resets it like RSET (§4.1.4). RFC 4954 §4: no AUTH during a transaction. RFC 3030 §3:
 * BDAT only after a RCPT.
 */
export const serverTransitions = {
  greeting: {
    ...anyTime('greeting', 'greeting'),
    EHLO: step('hello', 'ready'),
    HELO: step('hello', 'ready'),
    LHLO: step('hello', 'ready'),
    MAIL: 'helloFirst',
    RCPT: 'helloFirst',
    DATA: 'helloFirst',
    BDAT: 'helloFirst',
    AUTH: 'helloFirst',
    STARTTLS: 'helloFirst',
    ETRN: 'helloFirst',
    XCLIENT: step('xclient', 'greeting'), // Postfix accepts XCLIENT before EHLO: a proxy sends it first
  },
  ready: {
    ...anyTime('ready', 'ready'),
    EHLO: step('hello', 'ready'),
    HELO: step('hello', 'ready'),
    LHLO: step('hello', 'ready'),
    MAIL: step('mail', 'transaction'),
    RCPT: 'mailFirst',
    DATA: 'mailFirst',
    BDAT: 'mailFirst',
    AUTH: step('auth', 'auth'),
    STARTTLS: step('starttls', 'tls-handshake'),
    ETRN: step('etrn', 'ready'),
    XCLIENT: step('xclient', 'greeting'), // a new greeting follows (Postfix)
  },
  transaction: {
    ...anyTime('transaction', 'ready'),
    EHLO: step('hello', 'ready'),
    HELO: step('hello', 'ready'),
    LHLO: step('hello', 'ready'),
    MAIL: 'nestedMail',
    RCPT: step('rcpt', 'transaction'),
    DATA: step('data', 'message'),
    BDAT: step('bdat', 'message'),
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

/** A refusal that applies before the table, whatever the phase. */
export interface ServerGuard {
  /** For the diagram: when the guard applies. */
  readonly when: string;
  readonly reply: ReplyName;
  readonly applies: (verb: Verb, context: TransitionContext) => boolean;
}

/** The guards, in the order they are checked; the first that applies refuses the command. */
export const serverGuards: readonly ServerGuard[] = [
  {
    when: 'after a 554 greeting, all but QUIT (RFC 5321 §3.1)',
    reply: 'badSequence',
    applies: (verb, context) => context.isRefused && verb !== 'QUIT',
  },
  {
    when: 'the other protocol greeting verb: EHLO/HELO in LMTP (RFC 2033 §4.1), LHLO in SMTP',
    reply: 'syntaxError',
    applies: (verb, context) => (context.isLmtp ? verb === 'EHLO' || verb === 'HELO' : verb === 'LHLO'),
  },
  {
    when: 'requireTls before TLS, all but EHLO, HELO, LHLO, STARTTLS, NOOP, RSET, QUIT (RFC 3207 §4)',
    reply: 'tlsRequired',
    applies: (verb, context) => context.isTlsMissing && !verbsBeforeTls.has(verb),
  },
  {
    when: 'a verb whose extension is off (RFC 5321 §4.2.4)',
    reply: 'commandNotImplemented',
    applies: (verb, context) =>
      verb in verbExtensions && !context.isVerbAvailable(verb as keyof typeof verbExtensions),
  },
  {
    when: 'STARTTLS under TLS (RFC 3207 §4.2)',
    reply: 'alreadyTls',
    applies: (verb, context) => verb === 'STARTTLS' && context.isTlsActive,
  },
];

/** The transition for a parsed command: the first guard that applies, else the (phase, verb) table. */
export function findTransition(phase: CommandPhase, verb: Verb, context: TransitionContext): Transition {
  for (const guard of serverGuards) if (guard.applies(verb, context)) return guard.reply;
  return serverTransitions[phase][verb];
}

/** findTransition's answers for every (phase, verb) in one context. */
export type TransitionTable = Readonly<Record<CommandPhase, Readonly<Record<Verb, Transition>>>>;

/**
 * findTransition for every (phase, verb) in `context`, computed once: a session whose context only
 * changes with its options and TLS looks a command up in one step instead of running the guards
 * (issue 15: at one command per round trip, the guards cost about a microsecond each time).
 */
export function transitionTable(context: TransitionContext): TransitionTable {
  const table: Partial<Record<CommandPhase, Record<string, Transition>>> = {};
  for (const [phase, row] of Object.entries(serverTransitions) as [
    CommandPhase,
    Record<Verb, Transition>,
  ][]) {
    const resolved: Record<string, Transition> = {};
    for (const verb of Object.keys(row) as Verb[]) resolved[verb] = findTransition(phase, verb, context);
    table[phase] = resolved;
  }
  return table as TransitionTable;
}

/** How the phases that read no commands, and the session as a whole, move on. */
export interface ServerExit {
  readonly from: ServerPhase | 'start' | 'any';
  readonly to: ServerPhase;
  readonly on: string;
}

export const serverExits: readonly ServerExit[] = [
  { from: 'start', to: 'greeting', on: 'greet() 220, or 554 (then only QUIT, RFC 5321 §3.1)' },
  { from: 'start', to: 'closed', on: 'greet() 421' },
  { from: 'message', to: 'message', on: 'BDAT chunk before LAST read (commands as in transaction)' },
  { from: 'message', to: 'transaction', on: 'content ends (message-end pending)' },
  { from: 'message', to: 'ready', on: 'content refused after message-abort' },
  { from: 'transaction', to: 'ready', on: 'message-end accepted or rejected' },
  { from: 'auth', to: 'ready', on: '235, 535, or * cancel (RFC 4954 §4)' },
  { from: 'tls-handshake', to: 'greeting', on: 'tlsStarted() resets the session (RFC 3207 §4.2)' },
  { from: 'any', to: 'closed', on: 'too many errors, timedOut(), shutdown(), peer closed' },
];
