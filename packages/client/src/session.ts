import {
  type Capabilities,
  type MailParameters,
  type RcptParameters,
  type Reply,
  SmtpUsageError,
  serializeCommand,
} from '@smtp/protocol';
import { chooseMechanism, createAuthClient } from './auth.js';
import { authForConnection } from './auth-for-connection.js';
import { Connection } from './connection.js';
import { resolveConnectionInit } from './create-client.js';
import { assertNoLineBreak, resolveEnvelope, resolveMailbox } from './envelope.js';
import { isLoopbackAddress } from './loopback.js';
import type {
  AddressInput,
  AuthOptions,
  ConnectOptions,
  NodemailerAuthOptions,
  SendOptions,
  SendResult,
} from './options.js';
import { prepareSend } from './prepare-send.js';
import { resolveAuth } from './resolve-auth.js';
import { queueIdOf, runTransaction, throwIfUndelivered } from './send-transaction.js';
import type { TlsDetails } from './tls-details.js';
import { TranscriptRecorder } from './transcript.js';

export interface SessionOptions extends ConnectOptions {
  /** Called with each transcript line as it happens (e.g. to print a live probe). */
  readonly onTranscriptLine?: (line: string) => void;
  readonly signal?: AbortSignal;
}

/**
 * One connection, driven step by step, for tools (the CLI's probe, diagnostics). Nothing happens on its
 * own: no EHLO, STARTTLS or AUTH until asked. Every step throws SmtpReplyError on a 4xx/5xx reply where
 * the step cannot go on, and records itself in `transcript`.
 */
export interface SmtpSession {
  /** The 220 greeting. */
  readonly greeting: Reply;
  /** Capabilities from the last EHLO; null before it (or after HELO fallback: all off). */
  readonly capabilities: Capabilities | null;
  readonly isTlsActive: boolean;
  /**
   * The TLS layer once there is one (implicit TLS from connect(), or after starttls()): protocol, cipher,
   * the server's certificate and whether it verified. Null in plaintext.
   */
  readonly tls: TlsDetails | null;
  /** The session so far in the house transcript notation (`C:`/`S:` lines), AUTH secrets masked. */
  readonly transcript: string;
  readonly transcriptLines: readonly string[];
  /** EHLO (LHLO in LMTP), HELO when the server does not know EHLO. */
  ehlo(options?: { signal?: AbortSignal }): Promise<Capabilities>;
  /** STARTTLS and the handshake, then EHLO again. */
  starttls(options?: { signal?: AbortSignal }): Promise<Capabilities>;
  /** AUTH with the strongest mechanism both sides support, or the one named. Resolves with the 235 reply. */
  auth(auth: AuthOptions | NodemailerAuthOptions, options?: { signal?: AbortSignal }): Promise<Reply>;
  /**
   * A probe: `MAIL FROM` as a single command, answered with the server's reply whatever its code.
   * It does not start a transaction of the core's; follow it with rcpt() probes and rset().
   */
  mail(
    from: AddressInput | null,
    parameters?: Omit<MailParameters, 'unknown'>,
    options?: { signal?: AbortSignal },
  ): Promise<Reply>;
  /** A probe: `RCPT TO` as a single command, answered with the server's reply whatever its code. */
  rcpt(
    to: AddressInput,
    parameters?: Omit<RcptParameters, 'unknown'>,
    options?: { signal?: AbortSignal },
  ): Promise<Reply>;
  /**
   * A whole transaction through the core: MAIL, RCPTs, DATA or BDAT, the message, the final reply.
   * Same result and errors as `client.send()`.
   */
  data(options: SendOptions): Promise<SendResult>;
  rset(options?: { signal?: AbortSignal }): Promise<Reply>;
  noop(options?: { signal?: AbortSignal }): Promise<Reply>;
  /** Any command line (no CRLF); resolves with the reply whatever its code. */
  command(line: string, options?: { signal?: AbortSignal }): Promise<Reply>;
  /**
   * After `command('DATA')` was answered with 354: the message (dot-stuffed, ended with "."), resolving
   * with the reply to it whatever its code. With `command('MAIL FROM:…')` and `command('RCPT TO:…')` it
   * sends a transaction exactly as given, e.g. to see how a server treats malformed addresses.
   */
  commandData(message: string | Uint8Array, options?: { signal?: AbortSignal }): Promise<Reply>;
  /** QUIT, wait for 221 and the close (bounded), then release the socket. */
  quit(): Promise<void>;
  /** Drop the connection at once. */
  close(): void;
}

/** Connects and waits for the greeting; nothing else. */
export async function connect(options: SessionOptions = {}): Promise<SmtpSession> {
  const transcript = new TranscriptRecorder(options.onTranscriptLine);
  const init = { ...resolveConnectionInit(options), transcript };
  const connection = await Connection.open(init, options.signal);
  const greeting = connection.greeting!;
  // Read while the socket is open: the details stay available after quit().
  void connection.tlsDetails;
  const raw = async (line: string, signal: AbortSignal | undefined) => {
    assertNoLineBreak(line, 'command');
    return connection.command(line, signal);
  };
  return {
    greeting,
    get capabilities() {
      return connection.capabilities;
    },
    get isTlsActive() {
      return connection.isTlsActive;
    },
    get tls() {
      return connection.tlsDetails;
    },
    get transcript() {
      return transcript.toString();
    },
    get transcriptLines() {
      return transcript.lines;
    },
    ehlo: (step) => connection.hello(step?.signal),
    async starttls(step) {
      const capabilities = await connection.startTls(step?.signal);
      void connection.tlsDetails;
      return capabilities;
    },
    async auth(authInput, step) {
      const capabilities = connection.capabilities;
      if (capabilities === null) throw new SmtpUsageError('Call ehlo() before auth()');
      const auth = authForConnection(resolveAuth(authInput)!, {
        server: init.path ?? `${init.host}:${init.port}`,
        isTlsActive: connection.isTlsActive,
        isLocal: init.path !== undefined || isLoopbackAddress(connection.remoteAddress),
        plaintextReason: capabilities.startTls ? 'STARTTLS was not used' : 'it does not offer STARTTLS',
      });
      const mechanism = chooseMechanism(auth, capabilities, connection.isTlsActive);
      const controller = new AbortController();
      const client = await createAuthClient(auth, mechanism, step?.signal ?? controller.signal);
      return connection.authenticate(client, step?.signal);
    },
    mail(from, parameters = {}, step) {
      const path = from === null ? null : resolveMailbox(from, 'from');
      return raw(
        serializeCommand({ verb: 'MAIL', from: path, parameters: { ...parameters, unknown: [] } }),
        step?.signal,
      );
    },
    rcpt(to, parameters = {}, step) {
      const path = resolveMailbox(to, 'to');
      return raw(
        serializeCommand({ verb: 'RCPT', to: path, parameters: { ...parameters, unknown: [] } }),
        step?.signal,
      );
    },
    async data(sendOptions) {
      const started = performance.now();
      resolveEnvelope(sendOptions.from, sendOptions.to);
      const prepared = await prepareSend(sendOptions);
      const controller = new AbortController();
      const outcome = await runTransaction(
        connection,
        prepared,
        { dataStarted: false, queuedMs: 0 },
        sendOptions.signal ?? controller.signal,
      );
      throwIfUndelivered(outcome);
      return {
        accepted: outcome.accepted,
        rejected: outcome.rejected,
        reply: outcome.reply,
        ...queueIdOf(outcome.reply),
        messageBytes: outcome.messageBytes,
        timings: { queuedMs: 0, transactionMs: outcome.transactionMs, totalMs: performance.now() - started },
      };
    },
    rset: (step) => raw('RSET', step?.signal),
    noop: (step) => raw('NOOP', step?.signal),
    command: (line, step) => raw(line, step?.signal),
    commandData: (message, step) =>
      connection.commandData(
        typeof message === 'string' ? new TextEncoder().encode(message) : message,
        step?.signal,
      ),
    quit: () => connection.quit(),
    close: () => connection.destroy(),
  };
}
