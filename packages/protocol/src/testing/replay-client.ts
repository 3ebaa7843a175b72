// Replays a transcript against ClientSession: feeds the S lines, performs the caller's intents that the
// C lines show (hello, startTransaction, the body, reset, quit, AUTH, raw commands), and renders what the
// client wrote as C lines. What the session writes on its own (RCPT/DATA after MAIL, HELO after a 500,
// SASL responses, EHLO after TLS, the RSET after a failed transaction) must come out by itself.
//
// @client keys: name=client.example  mode=smtp|lmtp (default: @server's mode)  pipelining=false
//   chunking=false  (from= and to= are informative: the envelope comes from the MAIL and RCPT lines)
//   username= password= token= authzid= (SASL; the password defaults to the first `H: secret`)
// The body comes from the C lines after 354, unstuffed, and from the bytes after each BDAT line.

import { decodeUtf8, encodeUtf8 } from '../bytes/utf8.js';
import type {
  ClientEvent,
  ClientSessionOptions,
  EnvelopeInit,
  RecipientInit,
} from '../client/client-events.js';
import { ClientSession } from '../client/client-session.js';
import type { CommandSyntax } from '../command/command.js';
import { mailParameterEntries } from '../command/mail-parameters.js';
import { parseCommand } from '../command/parse-command.js';
import { createSaslClient } from '../sasl/create-sasl-client.js';
import { isSaslMechanismName } from '../sasl/sasl-mechanism.js';
import { fixedRandom } from './replay-server.js';
import { renderTranscriptStep, type Transcript } from './transcript.js';

export interface ClientReplayOptions {
  /** Chunk sizes, used in turn, to cut each block of server bytes, e.g. [1] for byte by byte. */
  readonly chunkSizes?: readonly number[];
  /** Overrides on top of the @client directive. */
  readonly options?: Partial<ClientSessionOptions>;
}

export interface ClientReplay {
  /** The transcript's C and S lines and markers in the notation (directives, comments and H lines left out). */
  readonly expected: string;
  /** The same with the C lines the session actually wrote: `expect(replay.actual).toBe(replay.expected)`. */
  readonly actual: string;
  readonly events: readonly ClientEvent[];
  readonly session: ClientSession;
}

const utf8Syntax: CommandSyntax = { mode: 'strict', smtpUtf8: true };

/** The ClientSessionOptions an @client directive (and @server mode) describe. */
export function clientOptionsFromTranscript(transcript: Transcript): ClientSessionOptions {
  const directive = transcript.client;
  const mode = directive.get('mode') ?? transcript.server.get('mode') ?? 'smtp';
  if (mode !== 'smtp' && mode !== 'lmtp') throw new Error(`@client mode must be smtp or lmtp, got ${mode}`);
  return {
    name: directive.get('name') ?? 'client.example',
    mode,
    random: fixedRandom(transcript.random.client),
    pipelining: directive.get('pipelining') !== 'false',
    chunking: directive.get('chunking') !== 'false',
  };
}

function lineAt(bytes: Uint8Array, start: number): string {
  const end = bytes.indexOf(0x0a, start);
  return decodeUtf8(bytes.subarray(start, end === -1 ? bytes.length : end)).replace(/\r$/, '');
}

function concat(pieces: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const piece of pieces) length += piece.length;
  const bytes = new Uint8Array(length);
  let position = 0;
  for (const piece of pieces) {
    bytes.set(piece, position);
    position += piece.length;
  }
  return bytes;
}

/** C lines for what the client wrote; an unterminated tail is shown raw so it cannot pass for a line. */
function renderClientBytes(bytes: Uint8Array, into: string[]): void {
  if (bytes.length === 0) return;
  const lines = decodeUtf8(bytes).split('\r\n');
  const tail = lines.pop() as string;
  for (const line of lines) into.push(`C: ${line}`);
  if (tail !== '') into.push(`C| ${JSON.stringify(tail)} (no CRLF)`);
}

/** Replays a transcript against a new ClientSession. Never throws for a mismatch: compare `actual` with `expected`. */
export function replayClient(transcript: Transcript, replayOptions: ClientReplayOptions = {}): ClientReplay {
  const session = new ClientSession({ ...clientOptionsFromTranscript(transcript), ...replayOptions.options });
  const events: ClientEvent[] = [];
  const expected: string[] = [];
  const actual: string[] = [];

  // The whole client byte stream, and where each block of consecutive C lines (H lines do not split a
  // block) ends in it. Intents are chosen by looking at the stream where the session's output stands.
  const clientBytes = concat(
    transcript.steps.flatMap((step) => (step.kind === 'client' ? [step.bytes] : [])),
  );
  let written: Uint8Array = new Uint8Array(0); // everything the session wrote so far
  let shownBytes = 0; // how much of `written` is already rendered

  const collect = (): void => {
    const output = session.takeOutput();
    if (output !== null) written = concat([written, output]);
    for (let event = session.nextEvent(); event !== null; event = session.nextEvent()) events.push(event);
  };

  const password = transcript.client.get('password') ?? firstSecret(transcript);

  /** Performs the caller's intent for the client line at `offset` of the stream; false when it is none. */
  const perform = (offset: number): boolean => {
    const line = lineAt(clientBytes, offset);
    const verb = line.split(' ', 1)[0]?.toUpperCase() ?? '';
    const phase = session.state.phase;
    if (phase === 'body') return writeBody(offset);
    switch (verb) {
      case 'EHLO':
      case 'LHLO':
        session.hello();
        return true;
      case 'MAIL':
        session.startTransaction(envelopeAt(offset));
        return true;
      case 'RSET':
        session.reset();
        return true;
      case 'QUIT':
        session.quit();
        return true;
      case 'STARTTLS':
        session.startTls();
        return true;
      case 'AUTH': {
        const mechanism = (line.split(' ')[1] ?? '').toUpperCase();
        if (!isSaslMechanismName(mechanism)) throw new Error(`replay: unknown SASL mechanism ${mechanism}`);
        const username = transcript.client.get('username') ?? '';
        const token = transcript.client.get('token');
        const authorizationId = transcript.client.get('authzid');
        session.authenticate(
          createSaslClient(
            mechanism,
            {
              username,
              ...(password === undefined ? {} : { password }),
              ...(token === undefined ? {} : { token }),
              ...(authorizationId === undefined ? {} : { authorizationId }),
            },
            { random: fixedRandom(transcript.random.client) },
          ),
        );
        return true;
      }
      case 'HELO':
      case 'RCPT':
      case 'DATA':
      case 'BDAT':
      case '.':
        return false; // the session writes these by itself
      default:
        if (phase !== 'ready' && phase !== 'hello' && phase !== 'greeting') return false;
        session.command(line);
        return true;
    }
  };

  /** The body at `offset`: DATA lines up to "." (unstuffed), or one BDAT chunk. */
  const writeBody = (offset: number): boolean => {
    const state = session.state;
    if (state.phase !== 'body') return false;
    if (state.transfer === 'BDAT') {
      const match = /^BDAT (\d+)( LAST)?$/i.exec(lineAt(clientBytes, offset));
      if (match === null) return false;
      const start = clientBytes.indexOf(0x0a, offset) + 1;
      const chunk = clientBytes.subarray(start, start + Number(match[1]));
      if (match[2] === undefined) session.writeBody(chunk);
      else if (chunk.length === 0) session.endBody();
      else session.endBody(chunk);
      return true;
    }
    const lines: Uint8Array[] = [];
    let position = offset;
    while (position < clientBytes.length) {
      const end = clientBytes.indexOf(0x0a, position);
      const next = end === -1 ? clientBytes.length : end + 1;
      const line = clientBytes.subarray(position, next);
      if (line.length === 3 && line[0] === 0x2e && line[1] === 0x0d && line[2] === 0x0a) break;
      // RFC 5321 §4.5.2: the sender doubled a leading dot; the message itself has one.
      lines.push(line[0] === 0x2e ? line.subarray(1) : line);
      position = next;
    }
    for (const piece of lines) session.writeBody(piece);
    session.endBody();
    return true;
  };

  /** The envelope from the MAIL line at `offset` and the RCPT lines after it (up to the next DATA/BDAT/MAIL/RSET). */
  const envelopeAt = (offset: number): EnvelopeInit => {
    const mail = parseCommand(encodeUtf8(lineAt(clientBytes, offset)), utf8Syntax);
    if (!mail.ok || mail.value.verb !== 'MAIL') throw new Error(`replay: not a MAIL line at byte ${offset}`);
    const recipients: RecipientInit[] = [];
    let transfer: 'DATA' | 'BDAT' = 'DATA';
    for (
      let position = clientBytes.indexOf(0x0a, offset) + 1;
      position > 0 && position < clientBytes.length;
    ) {
      const line = lineAt(clientBytes, position);
      const verb = line.split(' ', 1)[0]?.toUpperCase();
      if (verb === 'RCPT') {
        const rcpt = parseCommand(encodeUtf8(line), utf8Syntax);
        if (!rcpt.ok || rcpt.value.verb !== 'RCPT') throw new Error(`replay: bad RCPT line ${line}`);
        const { unknown: _unknown, ...rcptParameters } = rcpt.value.parameters;
        recipients.push({ to: rcpt.value.to, ...rcptParameters });
      } else if (
        verb === 'BDAT' ||
        verb === 'DATA' ||
        verb === 'MAIL' ||
        verb === 'RSET' ||
        verb === 'QUIT'
      ) {
        if (verb === 'BDAT') transfer = 'BDAT';
        break;
      }
      position = clientBytes.indexOf(0x0a, position) + 1;
    }
    // Each MAIL parameter back into the envelope fields its descriptor plans it from.
    const envelope: Record<string, unknown> = { from: mail.value.from, to: recipients, transfer };
    const values = mail.value.parameters as unknown as Readonly<Record<string, unknown>>;
    for (const [field, parameter] of mailParameterEntries) {
      if (values[field] === undefined) continue;
      for (const [key, value] of Object.entries(parameter.request(values[field]))) {
        const previous = envelope[key];
        envelope[key] =
          typeof previous === 'object' && previous !== null ? { ...previous, ...(value as object) } : value;
      }
    }
    return envelope as unknown as EnvelopeInit;
  };

  const attempt = (action: () => unknown, what: string): boolean => {
    try {
      return action() !== false;
    } catch (error) {
      // Misuse (SmtpUsageError), a capability check or a fixture the replay cannot read: show it in `actual`.
      actual.push(`!! ${what}: ${error instanceof Error ? error.message : String(error)}`);
      return false;
    }
  };

  /** Makes the session write up to `end` of the client stream, performing intents as needed. */
  const produce = (end: number): void => {
    collect();
    let guard = 0;
    while (written.length < end && !session.isClosed && guard++ < 1000) {
      if (!isPrefixOfStream(written, clientBytes)) break;
      const before = written.length;
      if (!attempt(() => perform(before), `intent at "${lineAt(clientBytes, before)}"`)) break;
      collect();
      if (written.length === before) break;
    }
  };

  const show = (): void => {
    renderClientBytes(written.subarray(shownBytes), actual);
    shownBytes = written.length;
  };

  const { chunkSizes } = replayOptions;
  let sizeIndex = 0;
  const feedServer = (lines: readonly string[]): void => {
    const bytes = encodeUtf8(lines.map((line) => `${line}\r\n`).join(''));
    if (chunkSizes === undefined || chunkSizes.length === 0) {
      session.receive(bytes);
    } else {
      for (let position = 0; position < bytes.length; ) {
        const size = Math.max(1, chunkSizes[sizeIndex++ % chunkSizes.length] as number);
        session.receive(bytes.subarray(position, position + size));
        position += size;
      }
    }
    collect();
  };

  let streamEnd = 0; // end of the client stream up to the current step
  let serverBlock: string[] = [];
  const flushServer = (): void => {
    if (serverBlock.length === 0) return;
    // Whatever the client wrote beyond the C lines so far shows up here, before the server's lines.
    show();
    // A caller aborting the envelope (RSET) or leaving (QUIT) decides before the replies arrive:
    // the session must not go on to DATA on its own in the meantime (RFC 5321 Appendix D.2).
    const next = lineAt(clientBytes, written.length).toUpperCase();
    if (
      written.length === streamEnd &&
      session.state.phase === 'envelope' &&
      (next === 'RSET' || next === 'QUIT')
    ) {
      try {
        if (next === 'RSET') session.reset();
        else session.quit();
      } catch {
        // Not possible now (DATA already out): the session's own handling must produce the line.
      }
    }
    for (const line of serverBlock) actual.push(`S: ${line}`);
    feedServer(serverBlock);
    serverBlock = [];
  };

  for (const step of transcript.steps) {
    if (step.kind === 'handler') continue;
    // C lines are rendered from their bytes on both sides, so `C|` and `C:` spellings compare equal.
    if (step.kind === 'client') renderClientBytes(step.bytes, expected);
    else expected.push(renderTranscriptStep(step));
    if (step.kind === 'server') {
      serverBlock.push(step.text);
      continue;
    }
    flushServer();
    if (step.kind === 'client') {
      streamEnd += step.bytes.length;
      produce(streamEnd);
      // Render exactly this line's share of what was written; the rest waits for the next C line.
      const end = Math.min(streamEnd, written.length);
      if (end > shownBytes) {
        renderClientBytes(written.subarray(shownBytes, end), actual);
        shownBytes = end;
      }
      continue;
    }
    show();
    actual.push(renderTranscriptStep(step));
    if (step.kind === 'tls') {
      attempt(() => session.tlsStarted(), 'tlsStarted()');
      collect();
    }
    // == close == (the client hangs up), == timeout == and == shutdown == are server-side events: the
    // server's S lines already show their effect.
  }
  flushServer();
  collect();
  show();
  return { expected: expected.join('\n'), actual: actual.join('\n'), events, session };
}

function isPrefixOfStream(prefix: Uint8Array, stream: Uint8Array): boolean {
  if (prefix.length > stream.length) return false;
  for (let index = 0; index < prefix.length; index++) if (prefix[index] !== stream[index]) return false;
  return true;
}

function firstSecret(transcript: Transcript): string | undefined {
  for (const step of transcript.steps) {
    if (step.kind === 'handler' && step.decision.type === 'secret') return step.decision.password;
  }
  return undefined;
}
