import { describe, expect, it } from 'vitest';
import type { Verb } from '../src/command/command.js';
import { replies } from '../src/reply/reply-catalog.js';
import type { ServerEvent } from '../src/server/server-events.js';
import type { ServerSessionOptions } from '../src/server/server-options.js';
import { ServerSession } from '../src/server/server-session.js';
import {
  type CommandPhase,
  findTransition,
  isServerStep,
  type ServerPhase,
  serverGuards,
  serverTransitions,
  type Transition,
  type TransitionContext,
  transitionTable,
  verbExtensions,
} from '../src/server/server-transitions.js';

const verbs: readonly Verb[] = [
  'EHLO',
  'HELO',
  'LHLO',
  'MAIL',
  'RCPT',
  'DATA',
  'BDAT',
  'RSET',
  'NOOP',
  'QUIT',
  'HELP',
  'VRFY',
  'EXPN',
  'ETRN',
  'AUTH',
  'STARTTLS',
  'XCLIENT',
];
const phases: readonly CommandPhase[] = ['greeting', 'ready', 'transaction'];
function context(overrides: Partial<TransitionContext> = {}): TransitionContext {
  return {
    isLmtp: false,
    isRefused: false,
    isTlsMissing: false,
    isTlsActive: false,
    isVerbAvailable: () => true,
    ...overrides,
  };
}

describe('the transition table', () => {
  it('has an entry for every (phase, verb): a step with its next phase, or a catalogue reply', () => {
    const serverPhases: readonly ServerPhase[] = [
      'greeting',
      'ready',
      'transaction',
      'message',
      'auth',
      'tls-handshake',
      'closed',
    ];
    for (const phase of phases) {
      for (const verb of verbs) {
        const transition: Transition = serverTransitions[phase][verb];
        if (isServerStep(transition)) expect(serverPhases, `${phase} ${verb}`).toContain(transition.next);
        else expect(Object.hasOwn(replies, transition), `${phase} ${verb}`).toBe(true);
      }
    }
    for (const guard of serverGuards) expect(Object.hasOwn(replies, guard.reply), guard.when).toBe(true);
  });

  it('follows RFC 5321 §4.1.4 sequencing', () => {
    const at = (phase: CommandPhase, verb: Verb) => {
      const transition = findTransition(phase, verb, context());
      return isServerStep(transition) ? transition.action : transition;
    };
    expect(at('greeting', 'MAIL')).toBe('helloFirst');
    expect(at('ready', 'MAIL')).toBe('mail');
    expect(at('ready', 'RCPT')).toBe('mailFirst');
    expect(at('ready', 'DATA')).toBe('mailFirst');
    expect(at('transaction', 'MAIL')).toBe('nestedMail');
    expect(at('transaction', 'RCPT')).toBe('rcpt');
    expect(at('transaction', 'EHLO')).toBe('hello');
    expect(at('transaction', 'AUTH')).toBe('authNotDuringTransaction'); // RFC 4954 §4
    for (const phase of phases)
      for (const verb of ['RSET', 'NOOP', 'QUIT', 'HELP'] as const) {
        expect(at(phase, verb)).toBe(verb.toLowerCase());
      }
  });

  it('applies the guards before the table', () => {
    const action = (transition: Transition) => (isServerStep(transition) ? transition.action : transition);
    expect(findTransition('ready', 'MAIL', context({ isRefused: true }))).toBe('badSequence');
    expect(action(findTransition('ready', 'QUIT', context({ isRefused: true })))).toBe('quit');
    expect(findTransition('greeting', 'EHLO', context({ isLmtp: true }))).toBe('syntaxError');
    expect(findTransition('greeting', 'LHLO', context())).toBe('syntaxError');
    expect(findTransition('ready', 'MAIL', context({ isTlsMissing: true }))).toBe('tlsRequired');
    expect(action(findTransition('ready', 'STARTTLS', context({ isTlsMissing: true })))).toBe('starttls');
    expect(findTransition('ready', 'STARTTLS', context({ isTlsActive: true }))).toBe('alreadyTls');
    for (const verb of Object.keys(verbExtensions) as (keyof typeof verbExtensions)[]) {
      expect(findTransition('ready', verb, context({ isVerbAvailable: () => false }))).toBe(
        'commandNotImplemented',
      );
    }
  });
});

describe('transitionTable', () => {
  it('holds what findTransition answers, for every (phase, verb) in every context', () => {
    const flags = [false, true];
    let contexts = 0;
    for (const isLmtp of flags)
      for (const isRefused of flags)
        for (const isTlsMissing of flags)
          for (const isTlsActive of flags)
            for (const unavailable of [null, 'STARTTLS', 'AUTH', 'BDAT', 'VRFY'] as const) {
              const given = context({
                isLmtp,
                isRefused,
                isTlsMissing,
                isTlsActive,
                isVerbAvailable: (verb) => verb !== unavailable,
              });
              const table = transitionTable(given);
              for (const phase of phases)
                for (const verb of verbs) {
                  expect(table[phase][verb], `${phase} ${verb}`).toEqual(findTransition(phase, verb, given));
                }
              contexts += 1;
            }
    expect(contexts).toBe(80);
  });
});

/** A line that is valid for each verb. */
const commandLines: Record<Verb, string> = {
  EHLO: 'EHLO client.example',
  HELO: 'HELO client.example',
  LHLO: 'LHLO client.example',
  MAIL: 'MAIL FROM:<a@client.example>',
  RCPT: 'RCPT TO:<b@mx.example>',
  DATA: 'DATA',
  BDAT: 'BDAT 10\r\n0123456789', // its octets follow, with no CRLF of their own
  RSET: 'RSET',
  NOOP: 'NOOP',
  QUIT: 'QUIT',
  HELP: 'HELP',
  VRFY: 'VRFY b',
  EXPN: 'EXPN list',
  ETRN: 'ETRN mx.example',
  AUTH: 'AUTH PLAIN',
  STARTTLS: 'STARTTLS',
  XCLIENT: 'XCLIENT NAME=client.example',
};

/** Feeds lines (CRLF appended, but not after BDAT's octets), accepting every pending event. */
function send(session: ServerSession, ...lines: string[]): ServerEvent[] {
  const text = lines.map((line) => (line.startsWith('BDAT') ? line : `${line}\r\n`)).join('');
  session.receive(new TextEncoder().encode(text));
  const events: ServerEvent[] = [];
  for (let event = session.nextEvent(); event !== null; event = session.nextEvent()) {
    events.push(event);
    if (session.pending === event) session.accept();
  }
  return events;
}

/** A session with every verb available, brought to `phase` by commands the table allows. */
function sessionIn(phase: CommandPhase, verb: Verb): ServerSession {
  const options: ServerSessionOptions = {
    hostname: 'mx.example',
    mode: verb === 'LHLO' ? 'lmtp' : 'smtp',
    extensions: { startTls: true, auth: ['PLAIN'], chunking: true, etrn: true, xclient: true, vrfy: true },
    auth: { allowPlaintext: true },
  };
  const session = new ServerSession(options);
  session.greet();
  const hello = verb === 'LHLO' ? 'LHLO client.example' : 'EHLO client.example';
  if (phase !== 'greeting') send(session, hello);
  if (phase === 'transaction') send(session, commandLines.MAIL, commandLines.RCPT);
  expect(session.state.phase).toBe(phase);
  return session;
}

describe('the table against the session', () => {
  // The diagram is drawn from the table: this checks the table tells the truth about where each
  // in-sequence command leads once it succeeds.
  for (const phase of phases) {
    for (const verb of verbs) {
      const transition: Transition = serverTransitions[phase][verb];
      const label = `${phase} ${verb} → ${isServerStep(transition) ? transition.next : transition}`;
      it(label, () => {
        const session = sessionIn(phase, verb);
        const events = send(session, commandLines[verb]);
        if (isServerStep(transition)) {
          expect(session.state.phase).toBe(transition.next);
          expect(events.filter((event) => event.type === 'command-rejected')).toEqual([]);
        } else {
          expect(session.state.phase).toBe(phase);
          const rejected = events.find((event) => event.type === 'command-rejected');
          expect(rejected?.type === 'command-rejected' ? rejected.reply.code : null).toBe(
            replies[transition].code,
          );
        }
      });
    }
  }
});
