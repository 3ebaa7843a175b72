import { describe, expect, it } from 'vitest';
import {
  type ClientAction,
  clientTransition,
  clientTransitions,
  isEhloUnsupported,
  type PendingKind,
} from './client-transitions.js';

// The expected table, written from the RFCs rather than copied: which reply class means what for each command.
const expected: Record<PendingKind, [ClientAction, ClientAction, ClientAction, ClientAction]> = {
  // RFC 5321 §3.1 / §4.3.2 "CONNECTION ESTABLISHMENT  S: 220  E: 554"
  greeting: ['greeting-ok', 'protocol-error', 'greeting-refused', 'greeting-refused'],
  // §4.3.2 "EHLO or HELO  S: 250  E: 504 (a conditional), 550, 502"; §3.2 fallback on "not recognized"
  ehlo: ['hello-ok', 'protocol-error', 'hello-failed', 'ehlo-refused'],
  helo: ['hello-ok', 'protocol-error', 'hello-failed', 'hello-failed'],
  lhlo: ['hello-ok', 'protocol-error', 'hello-failed', 'hello-failed'],
  // RFC 3207 §4: 220 ready, 501/454 refused
  starttls: ['tls-ready', 'protocol-error', 'command-failed', 'command-failed'],
  // RFC 4954 §4: 334 challenge, 235 success, 4xx/5xx failure
  auth: ['auth-ok', 'auth-challenge', 'auth-failed', 'auth-failed'],
  mail: ['mail-reply', 'protocol-error', 'mail-reply', 'mail-reply'],
  rcpt: ['rcpt-reply', 'protocol-error', 'rcpt-reply', 'rcpt-reply'],
  // §4.3.2 "DATA  I: 354 -> data -> S: 250 ... E: 552, 554, 451, 452 ... E: 450, 550 (rejections for policy reasons) E: 503, 554"
  data: ['protocol-error', 'data-go', 'data-failed', 'data-failed'],
  'data-end': ['message-reply', 'protocol-error', 'message-reply', 'message-reply'],
  bdat: ['bdat-ok', 'protocol-error', 'bdat-failed', 'bdat-failed'],
  'bdat-last': ['message-reply', 'protocol-error', 'message-reply', 'message-reply'],
  'lmtp-result': ['lmtp-result', 'protocol-error', 'lmtp-result', 'lmtp-result'],
  rset: ['command-reply', 'protocol-error', 'command-reply', 'command-reply'],
  'rset-silent': ['ignore', 'protocol-error', 'ignore', 'ignore'],
  quit: ['quit-reply', 'quit-reply', 'quit-reply', 'quit-reply'],
  raw: ['command-reply', 'command-reply', 'command-reply', 'command-reply'],
};

describe('clientTransitions', () => {
  for (const [kind, actions] of Object.entries(expected) as [PendingKind, ClientAction[]][]) {
    it(`${kind}: 2xx/3xx/4xx/5xx`, () => {
      expect([250, 354, 450, 550].map((code) => clientTransition(kind, code))).toEqual(actions);
    });
  }

  it('covers every pending kind', () => {
    expect(Object.keys(clientTransitions).sort()).toEqual(Object.keys(expected).sort());
  });

  it('treats codes outside 2xx..5xx as a protocol error', () => {
    for (const code of [100, 199, 600, 999]) expect(clientTransition('raw', code)).toBe('protocol-error');
  });

  it('falls back to HELO only on 500 and 502 (RFC 5321 §3.2)', () => {
    expect(isEhloUnsupported(500)).toBe(true);
    expect(isEhloUnsupported(502)).toBe(true);
    for (const code of [501, 504, 550, 554]) expect(isEhloUnsupported(code)).toBe(false);
  });
});
