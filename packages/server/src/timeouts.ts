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
  /**
   * Total time for one command line or SASL response, from its first byte to its CRLF, however
   * often bytes arrive (Postfix's smtpd_per_record_deadline): a client dripping a byte now and then
   * gets 421 4.4.2. Default 30 s; 0 = none.
   */
  readonly commandLineDeadlineMs?: number;
  /**
   * Total time for one message, from the DATA line (or first BDAT) to its end, however often
   * bytes arrive. Default 10 minutes; 0 = none.
   */
  readonly messageDeadlineMs?: number;
  /** Shorter timeouts while many connections are open (Postfix's stress mode). */
  readonly underLoad?: UnderLoadOptions;
}

export interface UnderLoadOptions {
  /** Share of `limits.maxConnections` open at once from which the server is under load. Default 0.8. */
  readonly threshold?: number;
  /**
   * Under load, every idle timeout and the command-line deadline are at most this long (the message
   * deadline is not: large messages take time). Default 10 s, as Postfix's smtpd_timeout under
   * stress; 0 = off.
   */
  readonly timeoutMs?: number;
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

export interface DeadlineDurations {
  readonly commandLine: number;
  readonly message: number;
  /** 0 = no load shedding. */
  readonly underLoadTimeout: number;
  readonly underLoadThreshold: number;
}

export function resolveDeadlines(options: TimeoutOptions = {}): DeadlineDurations {
  return {
    commandLine: options.commandLineDeadlineMs ?? 30_000,
    message: options.messageDeadlineMs ?? 600_000,
    underLoadTimeout: options.underLoad?.timeoutMs ?? 10_000,
    underLoadThreshold: options.underLoad?.threshold ?? 0.8,
  };
}
