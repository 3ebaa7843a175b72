import { describe, expect, it } from 'vitest';
import type { Verb } from '../src/command/command.js';
import { replies } from '../src/reply/reply-catalog.js';
import {
  type CommandPhase,
  findTransition,
  isServerAction,
  serverTransitions,
  type TransitionContext,
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
  it('has an entry for every (phase, verb), each an action or a catalogue reply', () => {
    for (const phase of phases) {
      for (const verb of verbs) {
        const transition = serverTransitions[phase][verb];
        expect(isServerAction(transition) || Object.hasOwn(replies, transition), `${phase} ${verb}`).toBe(
          true,
        );
      }
    }
  });

  it('follows RFC 5321 §4.1.4 sequencing', () => {
    const at = (phase: CommandPhase, verb: Verb) => findTransition(phase, verb, context());
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
    expect(findTransition('ready', 'MAIL', context({ isRefused: true }))).toBe('badSequence');
    expect(findTransition('ready', 'QUIT', context({ isRefused: true }))).toBe('quit');
    expect(findTransition('greeting', 'EHLO', context({ isLmtp: true }))).toBe('syntaxError');
    expect(findTransition('greeting', 'LHLO', context())).toBe('syntaxError');
    expect(findTransition('ready', 'MAIL', context({ isTlsMissing: true }))).toBe('tlsRequired');
    expect(findTransition('ready', 'STARTTLS', context({ isTlsMissing: true }))).toBe('starttls');
    expect(findTransition('ready', 'STARTTLS', context({ isTlsActive: true }))).toBe('alreadyTls');
    for (const verb of Object.keys(verbExtensions) as (keyof typeof verbExtensions)[]) {
      expect(findTransition('ready', verb, context({ isVerbAvailable: () => false }))).toBe(
        'commandNotImplemented',
      );
    }
  });
});
