// @smtp/protocol: named re-exports only. Each section belongs to one area of the core.

// errors and shared values
export { SmtpCapabilityError, SmtpError, SmtpReplyError, SmtpUsageError } from './errors.js';
export type { ParseResult } from './parse-result.js';
export type { Domain, ForwardPath, Mailbox, ReversePath } from './address/mailbox.js';
export type {
  BodyType,
  Command,
  CommandSyntax,
  DsnNotify,
  DsnReturn,
  EsmtpParameter,
  HelloVerb,
  MailParameters,
  RcptParameters,
  Verb,
} from './command/command.js';
export type { EnhancedStatus, Reply, ReplyInit } from './reply/reply.js';
export { createReply, isEnhancedStatus } from './reply/create-reply.js';
export { type ReplyName, replies } from './reply/reply-catalog.js';

// --- bytes, addresses, commands (grammar) ---

// --- replies, capabilities, proxy ---

// --- message codecs (DATA/BDAT) ---

// --- sasl ---

// --- server session ---

// --- client session ---
