import { connect, type SmtpSession } from '@smtp/client';
import { Command } from 'commander';
import { ClientRefusalError } from '../client-refusal-error.js';
import { describeError } from '../describe-error.js';
import { type ExitCode, exitCodes } from '../exit-codes.js';
import { addTlsOptions, type ConnectionFlags, resolveConnection } from '../options/connection-options.js';
import { formatServerAddress } from '../options/parse-server.js';
import { formatReply, replyToJson } from '../output/format-reply.js';
import { printJson, type Terminal } from '../output/terminal.js';
import { TranscriptPrinter } from '../output/transcript-printer.js';
import { type CapabilityChanges, compareCapabilities } from '../probe/capability-changes.js';
import { type ExplainedCapability, explainCapabilities } from '../probe/explain-capabilities.js';
import { inspectSessionTls, type TlsInspection } from '../probe/tls-report.js';
import type { CommandContext } from '../program-context.js';
import { round } from '../send/outcome.js';

interface ProbeFlags extends ConnectionFlags {
  readonly json?: boolean;
  readonly transcript?: boolean;
}

const examples = `
Examples:
  $ smtp probe mx.example.com                 port 25, STARTTLS when offered
  $ smtp probe smtp.example.com:587 --transcript
  $ smtp probe smtp.example.com --tls         implicit TLS on port 465
  $ smtp probe 127.0.0.1:2525 --insecure --json

Exit codes: 0 probe completed (and the certificate verified, or --insecure), 2/3 the greeting or
            EHLO was refused (4xx/5xx), 4 network/TLS/timeout error or a certificate that does not verify,
            6 --starttls required but not offered
`;

export function createProbeCommand(context: CommandContext): Command {
  const command = new Command('probe')
    .summary('inspect a server: banner, EHLO capabilities, TLS certificate, AUTH, timings')
    .description(
      'Connect, read the banner, send EHLO, upgrade with STARTTLS when offered (or use --tls), and report what the server supports, ' +
        'its TLS protocol, cipher and certificate (subject, SAN, issuer, expiry, verification), the AUTH mechanisms and round-trip times. Sends no mail.',
    )
    .argument('[host[:port]]', 'server to probe (default localhost:25, 465 with --tls; or SMTP_SERVER)');
  addTlsOptions(command, { lmtp: true });
  command
    .option('--transcript', 'also print the protocol transcript')
    .option('--json', 'print one JSON document (schemas/probe.schema.json)')
    .addHelpText('after', examples)
    .action(async (target: string | undefined, flags: ProbeFlags) => {
      context.setExitCode(await runProbe(target, flags, context.terminal));
    });
  return command;
}

interface ProbeReport {
  command: 'probe';
  server: string;
  exitCode: ExitCode;
  greeting: ReturnType<typeof replyToJson> | null;
  capabilities: ExplainedCapability[];
  capabilitiesAfterTls: ExplainedCapability[] | null;
  /** What STARTTLS changed in the EHLO reply; null without STARTTLS. */
  capabilityChangesAfterTls: CapabilityChanges | null;
  tls: {
    mode: 'starttls' | 'implicit' | 'none';
    offered: boolean;
    protocol: string | null;
    cipher: string | null;
    certificate: TlsInspection['certificate'];
    verified: boolean;
    verificationError: string | null;
    error: string | null;
  };
  auth: { mechanisms: string[]; mechanismsBeforeTls: string[] };
  timings: {
    greetingMs: number | null;
    ehloMs: number | null;
    starttlsMs: number | null;
    tlsHandshakeMs: number | null;
    noopMs: number | null;
  };
  transcript: string[];
  error: { kind: string; message: string } | null;
}

async function runProbe(
  target: string | undefined,
  flags: ProbeFlags,
  terminal: Terminal,
): Promise<ExitCode> {
  const connection = await resolveConnection(
    { ...flags, ...(target !== undefined ? { server: target } : {}) },
    { allowAuth: false },
  );
  const server = formatServerAddress(connection.address);
  const mode: ProbeReport['tls']['mode'] = connection.secure ? 'implicit' : 'none';
  const report: ProbeReport = {
    command: 'probe',
    server,
    exitCode: exitCodes.ok,
    greeting: null,
    capabilities: [],
    capabilitiesAfterTls: null,
    capabilityChangesAfterTls: null,
    tls: {
      mode,
      offered: connection.secure,
      protocol: null,
      cipher: null,
      certificate: null,
      verified: false,
      verificationError: null,
      error: null,
    },
    auth: { mechanisms: [], mechanismsBeforeTls: [] },
    timings: { greetingMs: null, ehloMs: null, starttlsMs: null, tlsHandshakeMs: null, noopMs: null },
    transcript: [],
    error: null,
  };
  const printer = new TranscriptPrinter(terminal.colors, terminal.out);
  const onLine = (line: string) => {
    report.transcript.push(line);
    if (flags.transcript && !flags.json) printer.print(line);
  };
  let session: SmtpSession | null = null;
  const timed = async <T>(step: () => Promise<T>): Promise<[T, number]> => {
    const started = performance.now();
    const value = await step();
    return [value, round(performance.now() - started)];
  };
  try {
    // The probe reports certificate problems instead of stopping at them: verification is judged below.
    const [opened, greetingMs] = await timed(() =>
      connect({
        host: connection.address.host,
        port: connection.address.port,
        secure: connection.secure,
        tls: { ...connection.tls, rejectUnauthorized: false },
        lmtp: connection.lmtp,
        timeouts: connection.timeouts,
        ...(connection.name !== undefined ? { name: connection.name } : {}),
        onTranscriptLine: onLine,
      }),
    );
    session = opened;
    report.timings.greetingMs = greetingMs;
    report.greeting = replyToJson(opened.greeting);
    const [capabilities, ehloMs] = await timed(() => opened.ehlo());
    report.timings.ehloMs = ehloMs;
    report.capabilities = explainCapabilities(capabilities);
    report.auth.mechanismsBeforeTls = [...capabilities.auth];
    report.auth.mechanisms = [...capabilities.auth];
    if (!connection.secure && capabilities.startTls) {
      report.tls.offered = true;
      if (connection.starttls !== 'never') {
        report.tls.mode = 'starttls';
        const [upgraded, starttlsMs] = await timed(() => opened.starttls());
        report.timings.starttlsMs = starttlsMs;
        report.capabilitiesAfterTls = explainCapabilities(upgraded);
        report.capabilityChangesAfterTls = compareCapabilities(
          report.capabilities,
          report.capabilitiesAfterTls,
        );
        report.auth.mechanisms = [...upgraded.auth];
      }
    } else if (!connection.secure && connection.starttls === 'required') {
      throw new ClientRefusalError(
        'STARTTLS',
        `${server} does not offer STARTTLS and --starttls is required`,
      );
    }
    // The TLS details come from this very connection: one connection per probe, no second look.
    const tls = opened.tls;
    if (tls !== null) {
      report.tls = { ...report.tls, ...inspectSessionTls(tls, Date.now()), error: null };
      report.timings.tlsHandshakeMs = round(tls.handshakeMs);
      if (!tls.authorized && connection.tls.rejectUnauthorized !== false) report.exitCode = exitCodes.network;
    }
    const [, noopMs] = await timed(() => opened.noop());
    report.timings.noopMs = noopMs;
    await opened.quit().catch(() => {});
    session = null;
  } catch (error) {
    session?.close();
    const described = describeError(error);
    if (described.kind === 'tls' && report.tls.mode !== 'none') report.tls.error = described.message;
    report.error = { kind: described.kind, message: described.message };
    report.exitCode = described.exitCode;
  }
  if (flags.json) printJson(terminal, report);
  else printProbe(terminal, report);
  return report.exitCode;
}

function printProbe(terminal: Terminal, report: ProbeReport): void {
  const colors = terminal.colors;
  const label = (text: string) => colors.bold(text.padEnd(12));
  const ms = (value: number | null) => (value === null ? '' : colors.dim(` (${value} ms)`));
  terminal.out(`${label('server')}${report.server}`);
  if (report.greeting)
    terminal.out(`${label('banner')}${formatReply(report.greeting)}${ms(report.timings.greetingMs)}`);
  if (report.timings.ehloMs !== null) {
    // The count is of the list below it: the reply after STARTTLS when there was one.
    const list = report.capabilitiesAfterTls ?? report.capabilities;
    const when = report.capabilitiesAfterTls ? ' after STARTTLS' : '';
    terminal.out(`${label('EHLO')}${list.length} extensions${when}${ms(report.timings.ehloMs)}`);
    for (const item of list) {
      const keyword = `${item.keyword}${item.parameters ? ` ${item.parameters}` : ''}`;
      terminal.out(`  ${colors.cyan(keyword.padEnd(30))} ${colors.dim(item.description)}`);
    }
    const changes = report.capabilityChangesAfterTls;
    if (changes) {
      const parts = [
        ...changes.added.map((line) => `+ ${line}`),
        ...changes.removed.map((line) => `- ${line}`),
        ...changes.changed.map((change) => `${change.before} → ${change.after}`),
      ];
      terminal.out(
        `${label('  STARTTLS')}${parts.length > 0 ? `changed the EHLO reply (${report.capabilities.length} extensions before): ${parts.join(', ')}` : 'left the EHLO reply as it was'}`,
      );
    }
  }
  if (report.greeting === null) {
    if (report.error) terminal.error(terminal.errorColors.red(`smtp probe: ${report.error.message}`));
    return;
  }
  const tls = report.tls;
  if (tls.mode === 'none') {
    terminal.out(
      `${label('TLS')}${tls.offered ? 'offered (STARTTLS), not used' : colors.yellow('not offered: mail to this server crosses the network readable')}`,
    );
  } else if (tls.error) {
    terminal.out(`${label('TLS')}${colors.red(`${tls.mode} failed: ${tls.error}`)}`);
  } else {
    terminal.out(
      `${label('TLS')}${tls.mode === 'starttls' ? 'STARTTLS' : 'implicit TLS'}: ${tls.protocol ?? '?'} ${tls.cipher ?? ''}${ms(report.timings.tlsHandshakeMs)}`,
    );
    const certificate = tls.certificate;
    if (certificate) {
      terminal.out(`  subject     ${certificate.subject}`);
      if (certificate.subjectAltNames.length > 0)
        terminal.out(`  SAN         ${certificate.subjectAltNames.join(', ')}`);
      terminal.out(
        `  issuer      ${certificate.issuer}${certificate.selfSigned ? colors.yellow(' (self-signed)') : ''}`,
      );
      const expiry = `${certificate.validTo} (${certificate.daysLeft} days left)`;
      terminal.out(`  expires     ${certificate.daysLeft < 14 ? colors.red(expiry) : expiry}`);
    }
    terminal.out(
      `  verified    ${tls.verified ? colors.green('yes') : colors.red(`no: ${tls.verificationError}`)}`,
    );
  }
  const auth = report.auth;
  const authText = auth.mechanisms.length > 0 ? auth.mechanisms.join(' ') : 'not offered';
  const beforeTls =
    report.capabilitiesAfterTls && auth.mechanismsBeforeTls.join(' ') !== auth.mechanisms.join(' ')
      ? colors.dim(
          ` (before TLS: ${auth.mechanismsBeforeTls.length > 0 ? auth.mechanismsBeforeTls.join(' ') : 'none'})`,
        )
      : '';
  terminal.out(`${label('AUTH')}${authText}${beforeTls}`);
  if (report.timings.noopMs !== null) terminal.out(`${label('round trip')}NOOP ${report.timings.noopMs} ms`);
  if (report.error) terminal.error(terminal.errorColors.red(`smtp probe: ${report.error.message}`));
}
