import {
  createMtaStsFetcher,
  type DeliveryReport,
  type DsnOptions,
  deliver,
  type RecipientDelivery,
} from '@smtp/client';
import type { MailParameterRequests } from '@smtp/protocol';
import { describeError } from '../describe-error.js';
import { combineExitCodes, type ExitCode, exitCodes } from '../exit-codes.js';
import { createResolver } from '../mx/create-resolver.js';
import type { ResolvedConnection } from '../options/connection-options.js';
import { formatReply, replyToJson } from '../output/format-reply.js';
import { type OutputMode, printJson, type Terminal } from '../output/terminal.js';
import { TranscriptPrinter } from '../output/transcript-printer.js';
import type { MessagePlan } from './message-plan.js';
import { round } from './outcome.js';

export interface MxDeliveryOptions {
  readonly connection: ResolvedConnection;
  readonly dnsServer: string | undefined;
  readonly dnsTimeoutMs: number;
  readonly port: number;
  readonly mtaSts: boolean;
  readonly dsn: DsnOptions | undefined;
  readonly requireTls: boolean;
  /** MAIL parameters of newer extensions by name (MT-PRIORITY), passed through. */
  readonly requests: MailParameterRequests;
  readonly signal: AbortSignal;
}

/**
 * `send --mx`: the message straight to each recipient domain's MX hosts (RFC 5321 §5) through
 * @smtp/client's deliver(), with MTA-STS (RFC 8461); prints each MX session and each recipient's fate.
 */
export async function deliverToMx(
  plan: MessagePlan,
  options: MxDeliveryOptions,
  terminal: Terminal,
  mode: OutputMode,
): Promise<ExitCode> {
  const started = performance.now();
  const outgoing = plan.next();
  const printer = new TranscriptPrinter(terminal.colors, terminal.out);
  const transcript: { host: string; line: string }[] = [];
  let lastHost: string | null = null;
  const { connection } = options;
  const resolver = createResolver({
    ...(options.dnsServer !== undefined ? { servers: options.dnsServer } : {}),
    timeoutMs: options.dnsTimeoutMs,
  });
  const report = await deliver({
    from: outgoing.from,
    to: outgoing.to,
    message: outgoing.message,
    resolver,
    port: options.port,
    starttls: connection.starttls,
    timeouts: connection.timeouts,
    ...(connection.name !== undefined ? { name: connection.name } : {}),
    // With --dns-server the MTA-STS policy host is looked up there too.
    ...(!options.mtaSts
      ? { mtaSts: false }
      : options.dnsServer !== undefined
        ? { mtaSts: { fetchPolicy: createMtaStsFetcher({ resolver }) } }
        : {}),
    ...(options.dsn !== undefined ? { dsn: options.dsn } : {}),
    ...(options.requireTls ? { requireTls: true } : {}),
    ...options.requests,
    signal: options.signal,
    onTranscriptLine(line, host) {
      transcript.push({ host, line });
      if (mode !== 'transcript') return;
      if (host !== lastHost) terminal.out(terminal.colors.bold(`== ${host} ==`));
      lastHost = host;
      printer.print(line);
    },
  });
  const exitCode = exitCodeOf(report);
  if (mode === 'json') {
    printJson(terminal, {
      command: 'send',
      mode: 'mx',
      exitCode,
      recipients: report.recipients.map(recipientToJson),
      durationMs: round(performance.now() - started),
      transcript,
    });
  } else {
    for (const recipient of report.recipients) printRecipient(terminal, recipient);
  }
  return exitCode;
}

/** Per recipient: delivered 0, deferred 2, failed 3; combined as for --count (mixed: 5, partial). */
function exitCodeOf(report: DeliveryReport): ExitCode {
  const codes = { delivered: exitCodes.ok, deferred: exitCodes.temporary, failed: exitCodes.permanent };
  return combineExitCodes(report.recipients.map((recipient) => codes[recipient.status]));
}

function recipientToJson(recipient: RecipientDelivery) {
  return {
    to: recipient.to,
    domain: recipient.domain,
    status: recipient.status,
    host: recipient.host,
    tls: recipient.tls,
    reply: recipient.reply === null ? null : replyToJson(recipient.reply),
    error: recipient.error === null ? null : describeError(recipient.error).message,
    mtaSts: recipient.mtaSts,
  };
}

function printRecipient(terminal: Terminal, recipient: RecipientDelivery): void {
  const colors = terminal.colors;
  const where =
    recipient.host === null
      ? ''
      : ` via ${recipient.host}${recipient.tls === true ? ' (TLS)' : recipient.tls === false ? ' (no TLS)' : ''}`;
  const policy = recipient.mtaSts === null ? '' : ` [MTA-STS ${recipient.mtaSts}]`;
  const why =
    recipient.reply !== null
      ? formatReply(recipient.reply)
      : recipient.error !== null
        ? describeError(recipient.error).message
        : '';
  const label =
    recipient.status === 'delivered'
      ? colors.green('delivered')
      : recipient.status === 'deferred'
        ? colors.yellow('deferred')
        : colors.red('failed');
  terminal.out(`${label} <${recipient.to}>${where}${policy}: ${why}`);
}
