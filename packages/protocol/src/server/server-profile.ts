import type { CommandSyntax } from '../command/command.js';
import type { EsmtpExtension } from '../extension/esmtp-extension.js';
import { esmtpExtensions } from '../extension/esmtp-extensions.js';
import { type Capabilities, serializeCapabilities } from '../reply/capabilities.js';
import { replies } from '../reply/reply-catalog.js';
import {
  type ResolvedServerOptions,
  resolveServerOptions,
  type ServerSessionOptions,
} from './server-options.js';
import { encodeReply } from './server-replies.js';

export { isMechanismOffered } from '../extension/auth-extension.js';

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

/**
 * What the EHLO reply advertises: each extension of the table as its descriptor offers it under these
 * options, with or without TLS. Advertise only what is served (house guide §2.3).
 */
export function serverCapabilities(options: ResolvedServerOptions, isTlsActive: boolean): Capabilities {
  const capabilities: Record<string, unknown> = { unknown: new Map() };
  for (const [name, extension] of offerEntries) {
    capabilities[name] = extension.server?.offer(options, isTlsActive) ?? extension.capability.absent;
  }
  return capabilities as Capabilities;
}

const offerEntries = Object.entries(esmtpExtensions) as readonly (readonly [
  string,
  EsmtpExtension<unknown, unknown, unknown>,
])[];

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
