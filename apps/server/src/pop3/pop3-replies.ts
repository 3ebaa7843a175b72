/**
 * Every one-line reply the POP3 session sends, by name (tests assert names, not text). A status
 * indicator, an optional response code in brackets (RFC 2449 §8, RFC 3206), then text.
 */
export interface Pop3Reply {
  readonly isOk: boolean;
  /** RFC 2449 §8 / RFC 3206 response code: AUTH, SYS/TEMP, SYS/PERM, IN-USE, LOGIN-DELAY. */
  readonly code: 'AUTH' | 'SYS/TEMP' | 'SYS/PERM' | null;
  readonly text: string;
}

const ok = (text: string): Pop3Reply => ({ isOk: true, code: null, text });
const error = (text: string, code: Pop3Reply['code'] = null): Pop3Reply => ({ isOk: false, code, text });

export const pop3Replies = {
  greeting: ok('smtp-app POP3 ready'),
  capabilities: ok('Capability list follows'),
  mechanisms: ok('SASL mechanisms follow'),
  userAccepted: ok('Send PASS'),
  loggedIn: ok('Logged in'),
  bye: ok('Bye'),
  noop: ok(''),
  beginTls: ok('Begin TLS negotiation'),
  unknownCommand: error('Unknown command'),
  badArguments: error('Bad arguments'),
  lineTooLong: error('Line too long'),
  tooManyErrors: error('Too many bad commands; closing'),
  wrongState: error('Command not valid in this state'),
  noSuchMessage: error('No such message'),
  messageDeleted: error('Message is deleted'),
  // RFC 3206 §4: SYS/PERM, the message will not come back (deleted through the API or retention).
  messageGone: error('Message no longer exists', 'SYS/PERM'),
  storeUnavailable: error('The message store cannot be read now; try again later', 'SYS/TEMP'),
  passWithoutUser: error('Send USER first'),
  plaintextDisallowed: error(
    'Plaintext authentication disallowed on non-secure connections; use STLS',
    'AUTH',
  ),
  invalidCredentials: error('Invalid user name or password', 'AUTH'),
  tooManyFailedLogins: error('Too many failed logins; closing', 'AUTH'),
  loginThrottled: error('Too many failed logins from your address; try again later', 'SYS/TEMP'),
  unsupportedMechanism: error('Unsupported SASL mechanism'),
  saslMalformed: error('Malformed SASL response'),
  saslCancelled: error('Authentication cancelled'),
  // RFC 5034 §4: the authorization identity must be the user's own (we grant no proxy rights).
  authorizationDenied: error('Not authorized to act as that identity', 'AUTH'),
  tlsActive: error('TLS is already active'),
  tlsUnavailable: error('STLS is not offered'),
  updateFailed: error('Some deleted messages were not removed', 'SYS/TEMP'),
  idleTimeout: error('Disconnected for inactivity'),
  shuttingDown: error('Server shutting down', 'SYS/TEMP'),
} as const satisfies Record<string, Pop3Reply>;

export type Pop3ReplyName = keyof typeof pop3Replies;

/** "+OK text" / "-ERR [CODE] text", CRLF-terminated. */
export function serializePop3Reply(reply: Pop3Reply, text: string = reply.text): string {
  const status = reply.isOk ? '+OK' : '-ERR';
  const code = reply.code === null ? '' : ` [${reply.code}]`;
  return `${status}${code}${text === '' ? '' : ` ${text}`}\r\n`;
}
