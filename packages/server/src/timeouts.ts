/** What the peer owes us now (ServerSession.timeout), plus the phase before the greeting. */
export type TimeoutKind = 'greeting' | 'command' | 'data' | 'auth' | 'tls-handshake';

export interface TimeoutOptions {
  /** Before the greeting: PROXY header, implicit-TLS handshake. Default 30 s. */
  readonly greetingMs?: number;
  /** Waiting for the next command. RFC 5321 §4.5.3.2.7: at least 5 minutes. Default 300 s. */
  readonly commandMs?: number;
  /** Idle time inside DATA/BDAT content (re-armed by every chunk). Default 300 s (RFC 5321 §4.5.3.2.7). */
  readonly dataMs?: number;
  /** Waiting for a SASL response after 334. Default 120 s. */
  readonly authMs?: number;
  /** STARTTLS or implicit TLS handshake. Default 30 s. */
  readonly tlsHandshakeMs?: number;
  /** After we closed (QUIT, 421): how long a peer that never reads may hold the socket. Default 5 s. */
  readonly closeMs?: number;
}

export type TimeoutDurations = Readonly<Record<TimeoutKind | 'close', number>>;

export function resolveTimeouts(options: TimeoutOptions = {}): TimeoutDurations {
  return {
    greeting: options.greetingMs ?? 30_000,
    command: options.commandMs ?? 300_000,
    data: options.dataMs ?? 300_000,
    auth: options.authMs ?? 120_000,
    'tls-handshake': options.tlsHandshakeMs ?? 30_000,
    close: options.closeMs ?? 5_000,
  };
}
