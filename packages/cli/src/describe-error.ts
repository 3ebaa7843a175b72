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
import { type ExitCode, exitCodes } from './exit-codes.js';
import { explainReply, formatReply } from './output/format-reply.js';

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

export interface DescribedError {
  readonly exitCode: ExitCode;
  readonly kind: ErrorKind;
  /** One line: what is wrong and, where we know, how to fix it. */
  readonly message: string;
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
  if (error instanceof CliError)
    return { exitCode: error.exitCode, kind: kindOfExit(error.exitCode), message: error.message };
  if (error instanceof CommanderError)
    return {
      exitCode: exitCodes.usage,
      kind: 'usage',
      message: oneLine(error.message.replace(/^error: /, '')),
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
    };
  }
  if (error instanceof SmtpTlsError) {
    const isCertificate = error.errorCode !== null && certificateCodes.has(error.errorCode);
    return {
      exitCode: exitCodes.network,
      kind: 'tls',
      message: `${oneLine(error.message)}${isCertificate ? '; pass --insecure to skip certificate checks for a test server' : ''}`,
    };
  }
  if (error instanceof SmtpTimeoutError) {
    return {
      exitCode: exitCodes.network,
      kind: 'timeout',
      message: `${oneLine(error.message)}; raise --timeout if the server is just slow`,
    };
  }
  if (error instanceof SmtpConnectionError) {
    return {
      exitCode: exitCodes.network,
      kind: 'network',
      message: `${oneLine(error.message)}${connectionHint(error)}`,
    };
  }
  if (error instanceof SmtpCapabilityError) {
    return { exitCode: exitCodes.permanent, kind: 'capability', message: oneLine(error.message) };
  }
  if (error instanceof SmtpProtocolError) {
    return {
      exitCode: exitCodes.network,
      kind: 'protocol',
      message: `the server broke the protocol: ${oneLine(error.message)}`,
    };
  }
  if (error instanceof SmtpUsageError)
    return { exitCode: exitCodes.usage, kind: 'usage', message: oneLine(error.message) };
  if (isAbort(error)) return { exitCode: exitCodes.network, kind: 'aborted', message: 'interrupted' };
  if (SmtpError.isInstance(error))
    return { exitCode: exitCodes.network, kind: 'network', message: oneLine(error.message) };
  const nodeCode = codeOf(error);
  if (nodeCode === 'ENOENT' || nodeCode === 'EACCES' || nodeCode === 'EISDIR') {
    const path = (error as { path?: string }).path;
    return {
      exitCode: exitCodes.usage,
      kind: 'usage',
      message: `cannot read ${path ?? 'a file'} (${nodeCode}): check the path`,
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return {
    exitCode: exitCodes.usage,
    kind: 'internal',
    message: `unexpected error: ${oneLine(message)} (set SMTP_DEBUG=1 for details)`,
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
