import { SmtpUsageError } from '../errors.js';
import type { ReplyInit } from '../reply/reply.js';
import type { ServerSessionOptions } from './server-options.js';
import { type ServerProfile, serverProfile } from './server-profile.js';
import { buildReply, encodeReply } from './server-replies.js';

/**
 * The greeting policy, one for every opening reply: the 220 banner, a 554 refusal (the session then
 * waits for QUIT, RFC 5321 §3.1) and a 421 (the server closes, §3.8), whether a session sends it or
 * an I/O layer that refuses a connection before it has one. Our hostname comes first (RFC 5321
 * §4.3.1); no enhanced status code (RFC 2034 §4).
 */
export type GreetingCode = 220 | 421 | 554;

export function isGreetingCode(code: number): code is GreetingCode {
  return code === 220 || code === 554 || code === 421;
}

/** The greeting's bytes from a session's profile; the default 220 is the profile's shared copy. */
export function greetingBytes(profile: ServerProfile, reply: ReplyInit | undefined): Uint8Array {
  if (reply === undefined) return profile.greetingBytes;
  if (!isGreetingCode(reply.code)) {
    throw new SmtpUsageError(`A greeting is 220, 554 or 421, got ${reply.code}`);
  }
  const lines = typeof reply.text === 'string' ? [reply.text] : [...reply.text];
  lines[0] = lines[0] ? `${profile.hostname} ${lines[0]}` : profile.hostname;
  return encodeReply(buildReply({ code: reply.code, text: lines }, false));
}

/**
 * The bytes ServerSession.greet(reply) would send with these options, for an I/O layer that greets or
 * refuses a connection before it creates a session (a session per idle connection costs memory; a
 * connection over the limit never gets one). A fresh buffer each call.
 */
export function encodeGreeting(options: ServerSessionOptions, reply?: ReplyInit): Uint8Array {
  const bytes = greetingBytes(serverProfile(options), reply);
  return reply === undefined ? bytes.slice() : bytes;
}
