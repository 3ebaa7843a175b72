import { SmtpConnectionError, SmtpTimeoutError, SmtpTlsError } from '@smtp/client';
import {
  SmtpCapabilityError,
  SmtpError,
  SmtpProtocolError,
  SmtpReplyError,
  SmtpUsageError,
} from '@smtp/protocol';
import { CommanderError } from 'commander';
import { CliError } from './cli-error.js';
import { ClientRefusalError } from './client-refusal-error.js';
import { type ExitCode, exitCodes } from './exit-codes.js';
import { explainReply, formatReply, replyToJson } from './output/format-reply.js';

export type ErrorKind =
  | 'usage'
  | 'reply'
  | 'capability'
  | 'network'
  | 'tls'
  | 'timeout'
  | 'protocol'
  | 'aborted'
  | 'internal';

/**
 * Who said no: the server, with the command it refused and its reply (exit 2 or 3), or smtp itself
 * before asking, with the EHLO keyword the server lacks and why that stops it (exit 6).
 */
export type Refusal =
  | {
      readonly by: 'server';
      readonly command: string | null;
      readonly reply: ReturnType<typeof replyToJson>;
    }
  | { readonly by: 'client'; readonly extension: string; readonly reason: string };

export interface DescribedError {
  readonly exitCode: ExitCode;
  readonly kind: ErrorKind;
  /** One line: what is wrong and, where we know, how to fix it. */
  readonly message: string;
  /** Null when nobody refused: the network, TLS, a timeout or our input failed. */
  readonly refusal: Refusal | null;
}

/** Certificate problems that --insecure (or a proper certificate) fixes. */
const certificateCodes = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Maps anything thrown to the exit code and the one-line message the user sees (never a stack trace). */
export function describeError(error: unknown): DescribedError {
  if (error instanceof ClientRefusalError)
    return {
      exitCode: error.exitCode,
      kind: 'capability',
      message: error.message,
      refusal: { by: 'client', extension: error.extension, reason: error.message },
    };
  if (error instanceof CliError)
    return {
      exitCode: error.exitCode,
      kind: kindOfExit(error.exitCode),
      message: error.message,
      refusal: null,
    };
  if (error instanceof CommanderError)
    return {
      exitCode: exitCodes.usage,
      kind: 'usage',
      message: oneLine(error.message.replace(/^error: /, '')),
      refusal: null,
    };
  if (error instanceof SmtpReplyError) {
    const explained = explainReply(error.reply);
    const refused = error.command
      ? `the server refused ${error.command.replace(/^(AUTH \S+) .*/i, '$1')}`
      : 'the server refused';
    return {
      exitCode: error.isTemporary ? exitCodes.temporary : exitCodes.permanent,
      kind: 'reply',
      message: `${refused}: ${formatReply(error.reply)}${explained ? ` (${explained})` : ''}${error.isTemporary ? '; a temporary failure, try again later' : ''}`,
      refusal: { by: 'server', command: error.command ?? null, reply: replyToJson(error.reply) },
    };
  }
  if (error instanceof SmtpTlsError) {
    const isCertificate = error.errorCode !== null && certificateCodes.has(error.errorCode);
    return {
      exitCode: exitCodes.network,
      kind: 'tls',
      message: `${oneLine(error.message)}${isCertificate ? '; pass --insecure to skip certificate checks for a test server' : ''}`,
      refusal: null,
    };
  }
  if (error instanceof SmtpTimeoutError) {
    return {
      exitCode: exitCodes.network,
      kind: 'timeout',
      message: `${oneLine(error.message)}; raise --timeout if the server is just slow`,
      refusal: null,
    };
  }
  if (error instanceof SmtpConnectionError) {
    return {
      exitCode: exitCodes.network,
      kind: 'network',
      message: `${oneLine(error.message)}${connectionHint(error)}`,
      refusal: null,
    };
  }
  if (error instanceof SmtpCapabilityError) {
    const reason = oneLine(error.message);
    return {
      exitCode: exitCodes.refusedByClient,
      kind: 'capability',
      message: `not sent, refused by smtp itself: ${reason}`,
      refusal: { by: 'client', extension: error.capability, reason },
    };
  }
  if (error instanceof SmtpProtocolError) {
    return {
      exitCode: exitCodes.network,
      kind: 'protocol',
      message: `the server broke the protocol: ${oneLine(error.message)}`,
      refusal: null,
    };
  }
  if (error instanceof SmtpUsageError)
    return { exitCode: exitCodes.usage, kind: 'usage', message: oneLine(error.message), refusal: null };
  if (isAbort(error))
    return { exitCode: exitCodes.network, kind: 'aborted', message: 'interrupted', refusal: null };
  if (SmtpError.isInstance(error))
    return { exitCode: exitCodes.network, kind: 'network', message: oneLine(error.message), refusal: null };
  const nodeCode = codeOf(error);
  if (nodeCode === 'ENOENT' || nodeCode === 'EACCES' || nodeCode === 'EISDIR') {
    const path = (error as { path?: string }).path;
    return {
      exitCode: exitCodes.usage,
      kind: 'usage',
      message: `cannot read ${path ?? 'a file'} (${nodeCode}): check the path`,
      refusal: null,
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return {
    exitCode: exitCodes.usage,
    kind: 'internal',
    message: `unexpected error: ${oneLine(message)} (set SMTP_DEBUG=1 for details)`,
    refusal: null,
  };
}

function kindOfExit(code: ExitCode): ErrorKind {
  if (code === exitCodes.usage) return 'usage';
  if (code === exitCodes.network) return 'network';
  return 'reply';
}

function connectionHint(error: SmtpConnectionError): string {
  switch (error.errorCode) {
    case 'ECONNREFUSED':
      return '; nothing listens there: check the host and port in --server';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return '; the host name does not resolve: check --server';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return '; the network cannot reach that host';
    default:
      return '';
  }
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && (error.name === 'AbortError' || codeOf(error) === 'ABORT_ERR');
}

function codeOf(error: unknown): string | null {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string'
    ? error.code
    : null;
}

function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}
