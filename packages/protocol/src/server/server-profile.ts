import type { CommandSyntax } from '../command/command.js';
import { xclientAttributeNames } from '../proxy/xclient.js';
import { type Capabilities, serializeCapabilities } from '../reply/capabilities.js';
import { replies } from '../reply/reply-catalog.js';
import { isPlaintextMechanism } from '../sasl/sasl-mechanism.js';
import {
  type ResolvedServerOptions,
  resolveServerOptions,
  type ServerSessionOptions,
} from './server-options.js';
import { encodeReply } from './server-replies.js';

/**
 * Everything a session derives from its options, computed once per options object and shared by every
 * session built from it: the resolved options, the EHLO reply bytes with and without TLS, the greeting.
 * This is what makes a new session cheap (one per connection).
 */
export interface ServerProfile extends ResolvedServerOptions {
  readonly greetingBytes: Uint8Array;
  readonly heloBytes: Uint8Array;
  /** [without TLS, with TLS] */
  readonly ehloBytes: readonly [Uint8Array, Uint8Array];
  readonly ehloLines: readonly [readonly string[], readonly string[]];
  /** Parser syntax with SMTPUTF8 applying / not applying. */
  readonly syntaxUtf8: CommandSyntax;
  readonly syntaxAscii: CommandSyntax;
}

const profiles = new WeakMap<ServerSessionOptions, ServerProfile>();

export function serverProfile(options: ServerSessionOptions): ServerProfile {
  let profile = profiles.get(options);
  if (profile === undefined) {
    profile = buildProfile(resolveServerOptions(options));
    profiles.set(options, profile);
  }
  return profile;
}

/** RFC 4954 §4 + house rule: plaintext mechanisms only under TLS unless allowPlaintext. */
export function isMechanismOffered(
  options: ResolvedServerOptions,
  mechanism: string,
  isTlsActive: boolean,
): boolean {
  return (
    (options.authMechanisms as readonly string[]).includes(mechanism) &&
    (isTlsActive || options.allowPlaintextAuth || !isPlaintextMechanism(mechanism as never))
  );
}

/** What the EHLO reply advertises. Advertise only what is served (house guide §2.3). */
export function serverCapabilities(options: ResolvedServerOptions, isTlsActive: boolean): Capabilities {
  return {
    pipelining: options.pipelining,
    size: options.size ? options.maxMessageBytes : null,
    eightBitMime: options.eightBitMime,
    smtpUtf8: options.smtpUtf8,
    enhancedStatusCodes: options.enhancedStatusCodes,
    startTls: options.startTls && !isTlsActive, // RFC 3207 §4.2: not after TLS
    chunking: options.chunking,
    binaryMime: options.binaryMime,
    dsn: options.dsn,
    requireTls: options.requireTlsExtension && isTlsActive, // RFC 8689 §2: after STARTTLS
    deliverBy: null,
    auth: options.authMechanisms.filter((mechanism) => isMechanismOffered(options, mechanism, isTlsActive)),
    etrn: options.etrn,
    vrfy: options.vrfy,
    help: false,
    xclient: options.xclient ? [...xclientAttributeNames] : null,
    unknown: new Map(),
  };
}

function buildProfile(options: ResolvedServerOptions): ServerProfile {
  const ehloLines = [false, true].map((isTlsActive) => [
    options.hostname,
    ...serializeCapabilities(serverCapabilities(options, isTlsActive)),
  ]) as unknown as [string[], string[]];
  const greeting = options.isLmtp ? replies.lmtpServiceReady : replies.serviceReady;
  const mode = options.isLenient ? 'lenient' : 'strict';
  return {
    ...options,
    greetingBytes: encodeReply({
      code: greeting.code,
      enhanced: null,
      lines: [`${options.hostname} ${greeting.text}`],
    }),
    heloBytes: encodeReply({ code: 250, enhanced: null, lines: [options.hostname] }),
    ehloBytes: [
      encodeReply({ code: 250, enhanced: null, lines: ehloLines[0] }),
      encodeReply({ code: 250, enhanced: null, lines: ehloLines[1] }),
    ],
    ehloLines,
    syntaxUtf8: { mode, smtpUtf8: true },
    syntaxAscii: { mode, smtpUtf8: false },
  };
}
