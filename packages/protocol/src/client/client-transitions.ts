// Every client transition in one place (house guide §2.3, h11 "Rule 1"): the session looks up what a
// reply means from the command it answers and the reply's class, and runs the named action. A 421 is
// handled before this table: at any point it means the server is closing (RFC 5321 §3.8).

/** What a reply we wait for answers. One entry per expected reply, in the order they will arrive. */
export type PendingKind =
  | 'greeting' // the 220 banner (RFC 5321 §3.1)
  | 'ehlo'
  | 'helo'
  | 'lhlo'
  | 'starttls'
  | 'auth' // AUTH, or one SASL response line after a 334
  | 'mail'
  | 'rcpt'
  | 'data' // DATA, waiting for 354
  | 'data-end' // the "." after the body (SMTP)
  | 'bdat' // a BDAT chunk that is not the last
  | 'bdat-last' // BDAT … LAST (SMTP)
  | 'lmtp-result' // LMTP: one of the per-recipient replies after "." or BDAT LAST (RFC 2033 §4.2)
  | 'rset' // reset() by the caller
  | 'rset-silent' // RSET we send on our own to clear a failed transaction; its reply is not reported
  | 'quit'
  | 'raw'; // command(line)

export type ReplyClass = '2' | '3' | '4' | '5';

export type ClientAction =
  | 'greeting-ok'
  | 'greeting-refused' // RFC 5321 §3.1: 554 (or another refusal) — report, then QUIT
  | 'hello-ok'
  | 'ehlo-refused' // 500/502: fall back to HELO (RFC 5321 §3.2); anything else fails
  | 'hello-failed'
  | 'tls-ready'
  | 'command-failed' // report the reply as an SmtpReplyError and stay usable
  | 'auth-challenge'
  | 'auth-ok'
  | 'auth-failed'
  | 'mail-reply'
  | 'rcpt-reply'
  | 'data-go'
  | 'data-failed'
  | 'message-reply' // the final reply after "." / BDAT LAST
  | 'bdat-ok'
  | 'bdat-failed'
  | 'lmtp-result'
  | 'command-reply' // report as a `reply` event
  | 'ignore'
  | 'quit-reply'
  | 'protocol-error'; // a reply of a class this command never gets: the server is broken

type Row = Readonly<Record<ReplyClass, ClientAction>>;

const finalOnly = (success: ClientAction, failure: ClientAction): Row => ({
  '2': success,
  '3': 'protocol-error',
  '4': failure,
  '5': failure,
});

export const clientTransitions: Readonly<Record<PendingKind, Row>> = {
  greeting: finalOnly('greeting-ok', 'greeting-refused'),
  ehlo: { '2': 'hello-ok', '3': 'protocol-error', '4': 'hello-failed', '5': 'ehlo-refused' },
  helo: finalOnly('hello-ok', 'hello-failed'),
  lhlo: finalOnly('hello-ok', 'hello-failed'),
  starttls: finalOnly('tls-ready', 'command-failed'),
  auth: { '2': 'auth-ok', '3': 'auth-challenge', '4': 'auth-failed', '5': 'auth-failed' },
  mail: finalOnly('mail-reply', 'mail-reply'),
  rcpt: finalOnly('rcpt-reply', 'rcpt-reply'),
  data: { '2': 'protocol-error', '3': 'data-go', '4': 'data-failed', '5': 'data-failed' },
  'data-end': finalOnly('message-reply', 'message-reply'),
  bdat: finalOnly('bdat-ok', 'bdat-failed'),
  'bdat-last': finalOnly('message-reply', 'message-reply'),
  'lmtp-result': finalOnly('lmtp-result', 'lmtp-result'),
  rset: finalOnly('command-reply', 'command-reply'),
  'rset-silent': finalOnly('ignore', 'ignore'),
  quit: { '2': 'quit-reply', '3': 'quit-reply', '4': 'quit-reply', '5': 'quit-reply' },
  raw: { '2': 'command-reply', '3': 'command-reply', '4': 'command-reply', '5': 'command-reply' },
};

/** The action for a reply `code` answering `kind`. Codes outside 200..599 are a protocol error. */
export function clientTransition(kind: PendingKind, code: number): ClientAction {
  const replyClass = String(Math.floor(code / 100));
  if (replyClass !== '2' && replyClass !== '3' && replyClass !== '4' && replyClass !== '5')
    return 'protocol-error';
  return clientTransitions[kind][replyClass];
}

/** RFC 5321 §3.2: EHLO answered "command not recognized" (500) or "not implemented" (502) → try HELO. */
export function isEhloUnsupported(code: number): boolean {
  return code === 500 || code === 502;
}
