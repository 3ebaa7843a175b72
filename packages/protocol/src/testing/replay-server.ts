// Replays a transcript against ServerSession: feeds the C bytes, answers pending events as the H lines
// say (no H: accept), performs the == markers ==, and renders what the server wrote as S lines.
//
// @server keys: hostname=mx.example  mode=smtp|lmtp  extensions=PIPELINING,8BITMIME,…  (exactly these;
//   omitted: the defaults)  auth=PLAIN,LOGIN  maxCommandLineBytes= maxTextLineBytes= maxMessageBytes=
//   maxRecipients= maxErrors= maxAuthLineBytes=  syntax=strict|lenient  bareLineEndings=reject|normalize
//   eightBitData=reject|accept  tls (implicit TLS)  allowPlaintextAuth  authRequired  requireTls
//   greeting="554 No service"  extension-<option>=<JSON> (e.g. extension-mtPriority={"maxPriority":5}; bare: true)

import { decodeBase64 } from '../bytes/base64.js';
import { decodeUtf8 } from '../bytes/utf8.js';
import { esmtpExtensions } from '../extension/esmtp-extensions.js';
import type { ReplyInit } from '../reply/reply.js';
import type { SaslMechanismName } from '../sasl/sasl-mechanism.js';
import type { ScramStoredCredentials } from '../sasl/sasl-server.js';
import { deriveScramCredentials } from '../sasl/scram-credentials.js';
import type { ServerEvent } from '../server/server-events.js';
import type { ServerSessionOptions } from '../server/server-options.js';
import { ServerSession } from '../server/server-session.js';
import {
  type HandlerDecision,
  renderTranscriptStep,
  type Transcript,
  type TranscriptStep,
} from './transcript.js';

export interface ServerReplayOptions {
  /**
   * Chunk sizes, used in turn (and again from the start) to cut the client bytes, e.g. [1] for byte by
   * byte. Omitted: each block of C lines is fed whole and the output is compared at every S block.
   */
  readonly chunkSizes?: readonly number[];
  /** Overrides on top of the @server directive. */
  readonly options?: Partial<ServerSessionOptions>;
}

export interface ServerReplay {
  /** The transcript's steps in the notation (directives and comments left out; with chunkSizes: only S lines and markers). */
  readonly expected: string;
  /** The same with the S lines the session actually wrote: `expect(replay.actual).toBe(replay.expected)`. */
  readonly actual: string;
  readonly events: readonly ServerEvent[];
  /** Each message's message-chunks joined, in order, for messages that ended with message-end. */
  readonly messages: readonly Uint8Array[];
  readonly session: ServerSession;
}

/**
 * EHLO keyword → ServerSessionOptions.extensions option, for every extension the server side offers;
 * AUTH takes its mechanisms from `auth=`.
 */
const extensionKeywords: ReadonlyMap<string, string> = new Map(
  Object.values(esmtpExtensions).flatMap((extension) =>
    'server' in extension && extension.server !== undefined && extension.keyword !== 'AUTH'
      ? [[extension.keyword, extension.server.option] as const]
      : [],
  ),
);
/** `extension-<option>=<JSON>`: an extension's own options, e.g. extension-mtPriority={"maxPriority":5}. */
const extensionOptionPrefix = 'extension-';

const limitKeys = [
  'maxCommandLineBytes',
  'maxTextLineBytes',
  'maxMessageBytes',
  'maxRecipients',
  'maxErrors',
  'maxAuthLineBytes',
] as const;

/** The ServerSessionOptions an @server directive describes, with `random` from @random. */
export function serverOptionsFromTranscript(transcript: Transcript): ServerSessionOptions {
  const directive = transcript.server;
  const extensions: Record<string, unknown> = {};
  const limits: Record<string, number> = {};
  const options: Record<string, unknown> = { hostname: directive.get('hostname') ?? 'mx.example' };
  for (const [key, value] of directive) {
    if (key === 'hostname') continue;
    if (key === 'extensions') {
      for (const name of extensionKeywords.values()) extensions[name] = false;
      for (const keyword of value.split(',').filter((word) => word !== '')) {
        const name = extensionKeywords.get(keyword.toUpperCase());
        if (name === undefined) throw new Error(`@server extensions: unknown keyword ${keyword}`);
        extensions[name] = true;
      }
    } else if (key.startsWith(extensionOptionPrefix)) {
      // set after `extensions=`, below
    } else if (key === 'auth') {
      extensions.auth = value.split(',').filter((word) => word !== '') as SaslMechanismName[];
    } else if ((limitKeys as readonly string[]).includes(key)) {
      limits[key] = Number(value);
    } else if (key === 'mode' || key === 'syntax' || key === 'bareLineEndings' || key === 'eightBitData') {
      options[key] = value;
    } else if (key === 'tls') {
      options.tls = { active: value !== 'false' };
    } else if (key === 'allowPlaintextAuth' || key === 'authRequired') {
      const auth = (options.auth ?? {}) as Record<string, boolean>;
      auth[key === 'authRequired' ? 'required' : 'allowPlaintext'] = value !== 'false';
      options.auth = auth;
    } else if (key === 'requireTls') {
      options.requireTls = value !== 'false';
    } else if (key !== 'greeting') {
      throw new Error(`@server: unknown option ${key}`);
    }
  }
  for (const [key, value] of directive) {
    if (!key.startsWith(extensionOptionPrefix)) continue;
    const option = key.slice(extensionOptionPrefix.length);
    if (![...extensionKeywords.values()].includes(option))
      throw new Error(`@server: unknown extension ${option}`);
    extensions[option] = value === '' ? true : JSON.parse(value);
  }
  options.extensions = extensions;
  options.limits = limits;
  options.random = fixedRandom(transcript.random.server);
  return options as unknown as ServerSessionOptions;
}

/** A deterministic `random`: the @random bytes in turn, over and over (or 00 01 02 … without them). */
export function fixedRandom(pool: Uint8Array | null): (length: number) => Uint8Array {
  const source =
    pool !== null && pool.length > 0 ? pool : Uint8Array.from({ length: 256 }, (_, index) => index);
  let position = 0;
  return (length) => {
    const bytes = new Uint8Array(length);
    for (let index = 0; index < length; index++) {
      bytes[index] = source[position] as number;
      position = (position + 1) % source.length;
    }
    return bytes;
  };
}

function parseGreeting(text: string): ReplyInit {
  const match = /^(\d{3}) (.*)$/.exec(text);
  if (match === null) throw new Error(`@server greeting must be "<code> <text>", got ${text}`);
  return { code: Number(match[1]), text: match[2] as string };
}

/** S lines for what the server wrote; an unterminated tail is shown raw so it cannot pass for a line. */
function renderOutput(bytes: Uint8Array | null, into: string[]): void {
  if (bytes === null) return;
  const lines = decodeUtf8(bytes).split('\r\n');
  const tail = lines.pop() as string;
  for (const line of lines) into.push(`S: ${line}`);
  if (tail !== '') into.push(`S| ${JSON.stringify(tail)} (no CRLF)`);
}

interface ClientRange {
  readonly start: number;
  readonly end: number;
  readonly decisions: HandlerDecision[];
}

/** Replays a transcript against a new ServerSession. Never throws for a mismatch: compare `actual` with `expected`. */
export function replayServer(transcript: Transcript, replayOptions: ServerReplayOptions = {}): ServerReplay {
  const options = {
    ...serverOptionsFromTranscript(transcript),
    ...replayOptions.options,
  } as ServerSessionOptions;
  const session = new ServerSession(options);
  const events: ServerEvent[] = [];
  const messages: Uint8Array[] = [];
  let messageChunks: Uint8Array[] | null = null;
  const { chunkSizes } = replayOptions;
  const isCheckpointed = chunkSizes === undefined || chunkSizes.length === 0;

  // Where each C step sits in the client byte stream, and the H decisions that follow it.
  const ranges: ClientRange[] = [];
  let streamBytes = 0;
  for (const step of transcript.steps) {
    if (step.kind === 'client') {
      ranges.push({ start: streamBytes, end: streamBytes + step.bytes.length, decisions: [] });
      streamBytes += step.bytes.length;
    } else if (step.kind === 'handler') {
      const last = ranges[ranges.length - 1];
      if (last === undefined) throw new Error(`transcript line ${step.lineNumber}: H before any C line`);
      last.decisions.push(step.decision);
    }
  }
  let fedBytes = 0;
  const actual: string[] = [];
  const expected: string[] = [];

  const decide = (event: ServerEvent): void => {
    // The C line that raised the event is the one holding the last byte the session consumed.
    const consumed = fedBytes - session.bufferedBytes;
    const range = ranges.find((candidate) => consumed - 1 >= candidate.start && consumed - 1 < candidate.end);
    const decision = range?.decisions.shift() ?? { type: 'accept', text: null };
    try {
      applyDecision(session, event, decision);
    } catch (error) {
      actual.push(`!! ${event.type}: ${(error as Error).message}`);
      if (session.pending !== null && !session.isClosed)
        session.reject({ code: 554, text: 'replay failure' });
    }
  };

  const drain = (): void => {
    for (let event = session.nextEvent(); event !== null; event = session.nextEvent()) {
      events.push(event);
      if (event.type === 'message-start') messageChunks = [];
      else if (event.type === 'message-chunk') messageChunks?.push(event.bytes);
      else if (event.type === 'message-abort') messageChunks = null;
      else if (event.type === 'message-end') {
        if (messageChunks !== null) messages.push(concat(messageChunks));
        messageChunks = null;
      }
      if (session.pending === event) decide(event);
    }
  };

  const feed = (bytes: Uint8Array): void => {
    if (session.isClosed) {
      fedBytes += bytes.length;
      return;
    }
    fedBytes += bytes.length;
    session.receive(bytes);
    drain();
  };

  const marker = (step: TranscriptStep): void => {
    drain();
    renderOutput(session.takeOutput(), actual);
    actual.push(renderTranscriptStep(step));
    try {
      if (step.kind === 'tls') {
        if (!events.some((event) => event.type === 'tls-ready'))
          actual.push('!! no tls-ready event before == tls ==');
        else session.tlsStarted();
      } else if (step.kind === 'close') session.receiveEnd();
      else if (step.kind === 'timeout') session.timedOut();
      else if (step.kind === 'shutdown') session.shutdown();
    } catch (error) {
      actual.push(`!! ${step.kind}: ${(error as Error).message}`);
    }
    drain();
  };

  const greeting = transcript.server.get('greeting');
  session.greet(greeting === undefined ? undefined : parseGreeting(greeting));

  if (isCheckpointed) {
    let isInServerBlock = false;
    for (const step of transcript.steps) {
      expected.push(renderTranscriptStep(step));
      if (step.kind === 'server') {
        if (!isInServerBlock) {
          drain();
          renderOutput(session.takeOutput(), actual);
        }
        isInServerBlock = true;
        continue;
      }
      isInServerBlock = false;
      if (step.kind === 'client') {
        actual.push(renderTranscriptStep(step));
        feed(step.bytes);
      } else if (step.kind === 'handler') {
        actual.push(renderTranscriptStep(step));
      } else {
        marker(step);
      }
    }
  } else {
    // Cut the client bytes of each segment (between markers) by the chunk sizes, across line boundaries.
    let sizeIndex = 0;
    const nextSize = (): number => {
      const size = chunkSizes[sizeIndex % chunkSizes.length] as number;
      sizeIndex += 1;
      return Math.max(1, size);
    };
    let segment: Uint8Array[] = [];
    const flushSegment = (): void => {
      const bytes = concat(segment);
      segment = [];
      for (let position = 0; position < bytes.length; ) {
        const size = nextSize();
        feed(bytes.subarray(position, position + size));
        position += size;
      }
    };
    for (const step of transcript.steps) {
      if (step.kind === 'server') expected.push(renderTranscriptStep(step));
      else if (step.kind === 'client') segment.push(step.bytes);
      else if (step.kind !== 'handler') {
        expected.push(renderTranscriptStep(step));
        flushSegment();
        marker(step);
      }
    }
    flushSegment();
  }
  drain();
  renderOutput(session.takeOutput(), actual);
  return { expected: expected.join('\n'), actual: actual.join('\n'), events, messages, session };
}

function applyDecision(session: ServerSession, event: ServerEvent, decision: HandlerDecision): void {
  switch (decision.type) {
    case 'accept':
      session.accept(decision.text === null ? {} : { text: decision.text });
      return;
    case 'reject':
      session.reject(decision.reply);
      return;
    case 'accept-each':
      session.acceptEach(decision.replies);
      return;
    case 'secret': {
      const mechanism = event.type === 'auth' ? event.mechanism : null;
      if (mechanism === 'SCRAM-SHA-256') {
        session.accept({ secret: { scram: scramCredentials(decision) } });
      } else {
        session.accept({ secret: { password: decision.password } });
      }
      return;
    }
  }
}

const scramCache = new Map<string, ScramStoredCredentials>();

/** PBKDF2 at 4096 iterations is slow in pure TS: derive once per (password, salt, iterations) per process. */
function scramCredentials(decision: Extract<HandlerDecision, { type: 'secret' }>): ScramStoredCredentials {
  const saltText = decision.salt ?? 'W22ZaJ0SNY7soEsUEjb6gQ=='; // RFC 7677 §3's example salt
  const iterations = decision.iterations ?? 4096;
  const key = `${decision.password}\u0000${saltText}\u0000${iterations}`;
  let credentials = scramCache.get(key);
  if (credentials === undefined) {
    const salt = decodeBase64(saltText);
    if (salt === null) throw new Error(`H: secret salt is not base64: ${saltText}`);
    credentials = deriveScramCredentials(decision.password, { salt, iterations });
    scramCache.set(key, credentials);
  }
  return credentials;
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
