import { createClient, type DsnOptions } from '@smtp/client';
import {
  type DsnNotify,
  type DsnReturn,
  envidProblem,
  type MailParameterRequests,
  mailParameters,
  rcptParameters,
} from '@smtp/protocol';
import { Command, Option } from 'commander';
import { usageError } from '../cli-error.js';
import { combineExitCodes, type ExitCode } from '../exit-codes.js';
import { abortOnInterrupt } from '../interrupt.js';
import { dnsServerOption } from '../mx/create-resolver.js';
import {
  addAuthOptions,
  addServerOption,
  addTlsOptions,
  type ConnectionFlags,
  clientOptionsOf,
  type ResolvedConnection,
  resolveConnection,
} from '../options/connection-options.js';
import { parseInteger } from '../options/parse-number.js';
import { formatServerAddress } from '../options/parse-server.js';
import { collect } from '../options/split-list.js';
import { formatReply } from '../output/format-reply.js';
import { createProgress } from '../output/progress.js';
import { type OutputMode, printJson, type Terminal } from '../output/terminal.js';
import { TranscriptPrinter } from '../output/transcript-printer.js';
import type { CommandContext } from '../program-context.js';
import { deliverToMx } from '../send/deliver-mx.js';
import { type MessageFlags, type MessagePlan, planMessage } from '../send/message-plan.js';
import {
  type MessageOutcome,
  outcomeFromError,
  outcomeFromResult,
  outcomeFromStop,
  round,
} from '../send/outcome.js';
import { parseQuitAfter, type QuitAfter } from '../send/quit-after.js';
import { sendOne } from '../send/send-one.js';

interface SendFlags extends ConnectionFlags, MessageFlags {
  readonly dsnNotify?: string;
  readonly dsnRet?: string;
  readonly dsnEnvid?: string;
  readonly dsnOrcpt?: boolean;
  readonly requiretls?: boolean;
  readonly mtPriority?: string;
  readonly count?: string;
  readonly concurrency?: string;
  readonly quiet?: boolean;
  readonly json?: boolean;
  readonly mx?: boolean;
  readonly mxPort?: string;
  readonly dnsServer?: string;
  /** commander's --no-mta-sts */
  readonly mtaSts?: boolean;
  readonly quitAfter?: string;
  /** commander's --no-chunking / --no-pipelining */
  readonly chunking?: boolean;
  readonly pipelining?: boolean;
  readonly raw?: boolean;
}

const examples = `
Examples:
  $ smtp send --server mx.example.com --from me@example.org --to you@example.com
  $ smtp send -s smtp.example.com:587 --starttls --user me@example.com --to you@example.com \\
      --subject 'Hello' --body-file body.txt --attach report.pdf
  $ smtp send -s smtp.example.com --tls --user me --to a@example.com,b@example.com --quiet
  $ smtp send --data message.eml --from me@example.org --to you@example.com
  $ cat message.eml | smtp send --data - --to you@example.com --json
  $ smtp send -s 127.0.0.1:2525 --to test@example.com --count 1000 --concurrency 10
  $ smtp send --mx --from me@example.org --to you@example.com
  $ smtp send -s mx.example.com --to you@example.com --quit-after RCPT
  $ smtp send -s 127.0.0.1:2525 --raw --ehlo 'bad name!' --from 'no-at-sign' --to you@example.com
  $ smtp send -s 127.0.0.1:2525 --from 'Ann <ann@example.org>' -H 'Subject: Hi' --body @body.txt --to you@example.com

Exit codes: 0 all recipients accepted, 1 usage error, 2 the server answered 4xx,
            3 the server answered 5xx, 4 network/TLS/timeout error, 5 partial (some rejected),
            6 refused by smtp itself before sending: the server lacks what the message or flags
              need (SIZE, SMTPUTF8, 8BITMIME, DSN, REQUIRETLS, STARTTLS, AUTH)
`;

export function createSendCommand(context: CommandContext): Command {
  const command = new Command('send')
    .summary('send one message or many, showing the SMTP conversation')
    .description(
      'Send a test message and print the protocol transcript (C: what we sent, S: what the server answered; AUTH secrets masked). ' +
        'Without --data the message is composed (MIME) from --subject, --body, --html-file, --attach and --header.',
    );
  addServerOption(command, 'server to send to (default localhost:25; port 465 with --tls, 24 with --lmtp)');
  command
    .addOption(
      new Option(
        '-f, --from <address>',
        "envelope sender and From: header, e.g. 'Ann <ann@example.com>' (default: $USER@host)",
      ).env('SMTP_FROM'),
    )
    .option('-t, --to <addresses>', 'recipient(s), repeatable or comma-separated', collect)
    .option('--cc <addresses>', 'Cc recipient(s), repeatable or comma-separated', collect)
    .option('--bcc <addresses>', 'Bcc recipient(s): envelope only, not in the headers', collect)
    .option('--subject <text>', 'Subject: header (default: "test <date>")')
    .option('--body <text>', 'plain-text body; @file reads it from a file, @- from standard input')
    .option('--body-file <file>', 'plain-text body from a file')
    .option('--html-file <file>', 'HTML alternative from a file')
    .option('-a, --attach <file>', 'attach a file (repeatable)', collect)
    .option(
      '-H, --header <"Name: value">',
      'add a header (repeatable); From, To, Cc, Reply-To and Subject replace the composed ones',
      collect,
    )
    .option('-d, --data <file>', "send this RFC 5322 message as it is ('-' reads standard input)");
  addTlsOptions(command, { lmtp: true });
  addAuthOptions(command);
  command
    .option(
      '--dsn-notify <when>',
      'DSN NOTIFY= for every recipient: NEVER, or a comma list of SUCCESS, FAILURE, DELAY (RFC 3461)',
    )
    .option('--dsn-ret <what>', 'DSN RET=: FULL or HDRS (RFC 3461)')
    .option('--dsn-envid <id>', 'DSN ENVID=: an identifier DSNs echo back, up to 100 characters (RFC 3461)')
    .option('--dsn-orcpt', 'DSN ORCPT=rfc822;<recipient> with every recipient, echoed in DSNs (RFC 3461)')
    .option(
      '--requiretls',
      'REQUIRETLS (RFC 8689): every hop must deliver over verified TLS, or the message bounces; needs TLS here',
    )
    .option(
      '--mt-priority <n>',
      'MT-PRIORITY= (RFC 6710): -9 (lowest) to 9 (highest); left out when the server does not offer it',
    )
    .option(
      '--quit-after <step>',
      'stop after this step and QUIT: CONNECT, EHLO, TLS, AUTH, MAIL, RCPT or DATA (DATA: close after the 354)',
    )
    .option('--no-chunking', 'send the message with DATA even when the server offers CHUNKING (BDAT)')
    .option('--no-pipelining', 'wait for each reply even when the server offers PIPELINING')
    .option(
      '--raw',
      'send --ehlo and the --from/--to addresses exactly as given, even malformed, to test how a server handles bad input',
    )
    .option('-n, --count <n>', 'send the message N times (progress bar on a terminal)', '1')
    .option('-c, --concurrency <n>', 'with --count: connections in parallel', '1')
    .option(
      '--mx',
      "deliver straight to each recipient domain's MX hosts (RFC 5321 §5) instead of --server, with MTA-STS (RFC 8461)",
    )
    .option(
      '--mx-port <port>',
      'with --mx: the port to connect to on each MX host (default 25; for test setups)',
    )
    .addOption(
      dnsServerOption(
        'with --mx: ask this DNS server (comma-separated list) instead of the system resolvers',
      ),
    )
    .option('--no-mta-sts', 'with --mx: do not look up or apply MTA-STS policies')
    .option('-q, --quiet', 'print only the outcome, not the transcript')
    .option('--json', 'print one JSON document (schemas/send.schema.json)')
    .addHelpText('after', examples)
    .action(async (flags: SendFlags, self: Command) => {
      context.setExitCode(
        flags.mx === true
          ? await runMx(flags, self, context.terminal)
          : await runSend(flags, context.terminal),
      );
    });
  return command;
}

/** Per-message options for the transaction besides the envelope. */
interface DeliveryOptions {
  readonly dsn: DsnOptions | undefined;
  readonly requireTls: boolean;
  /** MAIL parameters of newer extensions by their MailParameters name (MT-PRIORITY), passed through. */
  readonly requests: MailParameterRequests;
}

function outputModeOf(flags: SendFlags): OutputMode {
  if (flags.quiet && flags.json) throw usageError('--quiet and --json exclude each other: pick one');
  return flags.json ? 'json' : flags.quiet ? 'quiet' : 'transcript';
}

/** Flags that choose a server or a way to talk to it, which --mx replaces with the MX hosts. */
const serverOnlyFlags = [
  'server',
  'tls',
  'lmtp',
  'user',
  'authMech',
  'count',
  'concurrency',
  'quitAfter',
  'raw',
  'chunking',
  'pipelining',
] as const;

async function runMx(flags: SendFlags, command: Command, terminal: Terminal): Promise<ExitCode> {
  for (const name of serverOnlyFlags) {
    if (command.getOptionValueSource(name) === 'cli') {
      const flag = command.options.find((option) => option.attributeName() === name)?.long ?? name;
      throw usageError(`--mx and ${flag} exclude each other: --mx sends to the recipients' MX hosts`);
    }
  }
  const mode = outputModeOf(flags);
  const port = parseInteger(flags.mxPort ?? '25', '--mx-port');
  if (port < 1 || port > 65535) throw usageError(`--mx-port '${flags.mxPort}': give 1..65535`);
  const plan = await planMessage(flags);
  // Only the EHLO name, STARTTLS policy and timeouts count here: no server, no AUTH towards MX hosts.
  const { server: _server, user: _user, ...mxFlags } = flags;
  const connection = await resolveConnection(mxFlags, { allowAuth: false });
  const abort = abortOnInterrupt();
  try {
    return await deliverToMx(
      plan,
      {
        connection,
        dnsServer: flags.dnsServer,
        dnsTimeoutMs: connection.stepTimeoutMs ?? 10_000,
        port,
        mtaSts: flags.mtaSts !== false,
        dsn: parseDsn(flags),
        requireTls: flags.requiretls === true,
        requests: parseMailParameterRequests(flags),
        signal: abort.signal,
      },
      terminal,
      mode,
    );
  } finally {
    abort.dispose();
  }
}

async function runSend(flags: SendFlags, terminal: Terminal): Promise<ExitCode> {
  if (flags.mxPort !== undefined) throw usageError('--mx-port goes with --mx');
  if (flags.mtaSts === false) throw usageError('--no-mta-sts goes with --mx');
  const mode = outputModeOf(flags);
  const count = parseInteger(flags.count ?? '1', '--count');
  const concurrency = parseInteger(flags.concurrency ?? '1', '--concurrency');
  const steps: StepOptions = {
    quitAfter: parseQuitAfter(flags.quitAfter),
    raw: flags.raw === true,
    pipelining: flags.pipelining !== false,
    chunking: flags.chunking !== false,
  };
  if (count > 1 && (steps.quitAfter !== null || steps.raw)) {
    throw usageError('--quit-after and --raw drive one session step by step: drop --count');
  }
  if (steps.raw && (flags.dsnNotify ?? flags.dsnRet ?? flags.dsnEnvid ?? flags.mtPriority) !== undefined) {
    throw usageError('--raw sends MAIL FROM and RCPT TO without parameters: drop --dsn-* and --mt-priority');
  }
  if (steps.raw && (flags.requiretls === true || flags.dsnOrcpt === true)) {
    throw usageError(
      '--raw sends MAIL FROM and RCPT TO without parameters: drop --requiretls and --dsn-orcpt',
    );
  }
  const dsn = parseDsn(flags);
  const delivery: DeliveryOptions = {
    dsn,
    requireTls: flags.requiretls === true,
    requests: parseMailParameterRequests(flags),
  };
  const plan = await planMessage(flags, { raw: steps.raw });
  const connection = await resolveConnection(flags, { allowAuth: true, raw: steps.raw });
  const server = formatServerAddress(connection.address);
  const started = performance.now();
  const abort = abortOnInterrupt();
  try {
    if (count === 1) {
      const transcript: string[] = [];
      const printer = new TranscriptPrinter(terminal.colors, terminal.out);
      const outcome = await runOne(connection, plan, delivery, steps, abort.signal, (line) => {
        transcript.push(line);
        if (mode === 'transcript') printer.print(line);
      });
      report(terminal, mode, {
        server,
        outcomes: [outcome],
        transcript,
        durationMs: performance.now() - started,
      });
      return outcome.exitCode;
    }
    const outcomes = await runMany(connection, plan, delivery, {
      pipelining: steps.pipelining,
      chunking: steps.chunking,
      count,
      concurrency,
      showProgress: mode === 'transcript',
      signal: abort.signal,
    });
    report(terminal, mode, { server, outcomes, transcript: null, durationMs: performance.now() - started });
    return combineExitCodes(outcomes.map((outcome) => outcome.exitCode));
  } finally {
    abort.dispose();
  }
}

/** How one session goes: where it stops, and what it sends by hand or leaves out. */
interface StepOptions {
  readonly quitAfter: QuitAfter | null;
  readonly raw: boolean;
  readonly pipelining: boolean;
  readonly chunking: boolean;
}

async function runOne(
  connection: ResolvedConnection,
  plan: MessagePlan,
  delivery: DeliveryOptions,
  steps: StepOptions,
  signal: AbortSignal,
  onLine: (line: string) => void,
): Promise<MessageOutcome> {
  const started = performance.now();
  try {
    const sent = await sendOne({ connection, message: plan.next(), ...delivery, ...steps, onLine, signal });
    return sent.kind === 'stopped'
      ? outcomeFromStop(sent.after, sent.reply, performance.now() - started)
      : outcomeFromResult(sent.result, performance.now() - started);
  } catch (error) {
    return outcomeFromError(error, performance.now() - started, formatServerAddress(connection.address));
  }
}

/** --count: a pool of --concurrency connections from @smtp/client, at most that many sends in flight. */
async function runMany(
  connection: ResolvedConnection,
  plan: MessagePlan,
  delivery: DeliveryOptions,
  options: {
    count: number;
    concurrency: number;
    pipelining: boolean;
    chunking: boolean;
    showProgress: boolean;
    signal: AbortSignal;
  },
): Promise<MessageOutcome[]> {
  const client = createClient({
    ...clientOptionsOf(connection),
    pipelining: options.pipelining,
    chunking: options.chunking,
    pool: { maxConnections: options.concurrency },
  });
  const progress = await createProgress({
    total: options.count,
    label: 'sending',
    enabled: options.showProgress,
  });
  const outcomes: MessageOutcome[] = new Array(options.count);
  let nextIndex = 0;
  const worker = async () => {
    while (nextIndex < options.count && !options.signal.aborted) {
      const index = nextIndex++;
      const started = performance.now();
      try {
        const message = plan.next();
        const result = await client.send({
          from: message.from,
          to: message.to,
          message: message.message,
          ...(delivery.dsn ? { dsn: delivery.dsn } : {}),
          ...(delivery.requireTls ? { requireTls: true } : {}),
          ...delivery.requests,
          signal: options.signal,
        });
        outcomes[index] = outcomeFromResult(result, performance.now() - started);
      } catch (error) {
        outcomes[index] = outcomeFromError(
          error,
          performance.now() - started,
          formatServerAddress(connection.address),
        );
      }
      progress.increment();
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(options.concurrency, options.count) }, worker));
  } finally {
    progress.stop();
    await client.close().catch(() => client.destroy());
  }
  return outcomes.filter((outcome) => outcome !== undefined);
}

function report(
  terminal: Terminal,
  mode: OutputMode,
  run: {
    server: string;
    outcomes: readonly MessageOutcome[];
    transcript: readonly string[] | null;
    durationMs: number;
  },
): void {
  const exitCode = combineExitCodes(run.outcomes.map((outcome) => outcome.exitCode));
  const tally = {
    count: run.outcomes.length,
    accepted: run.outcomes.filter((outcome) => outcome.status === 'accepted').length,
    partial: run.outcomes.filter((outcome) => outcome.status === 'partial').length,
    failed: run.outcomes.filter((outcome) => outcome.status === 'failed').length,
  };
  if (mode === 'json') {
    printJson(terminal, {
      command: 'send',
      server: run.server,
      status: run.outcomes.every((outcome) => outcome.status === 'stopped')
        ? 'stopped'
        : exitCode === 0
          ? 'accepted'
          : tally.failed === tally.count
            ? 'failed'
            : 'partial',
      exitCode,
      summary: { ...tally, durationMs: round(run.durationMs) },
      messages: run.outcomes,
      ...(run.transcript ? { transcript: run.transcript } : {}),
    });
    return;
  }
  const colors = terminal.colors;
  if (run.outcomes.length === 1) {
    const outcome = run.outcomes[0] as MessageOutcome;
    for (const item of outcome.rejected) {
      terminal.out(colors.yellow(`rejected <${item.to}>: ${formatReply(item.reply)}`));
    }
    if (outcome.status === 'stopped') {
      terminal.out(`stopped after ${outcome.stoppedAfter} as asked (--quit-after), nothing sent`);
    } else if (outcome.error) {
      // Failures go to stderr with the fix; the transcript above shows the details.
      terminal.error(terminal.errorColors.red(`smtp send: ${outcome.error.message}`));
    } else if (outcome.reply) {
      const reply = outcome.reply;
      const who = `${outcome.accepted.length} of ${outcome.accepted.length + outcome.rejected.length} recipient(s)`;
      terminal.out(
        `${outcome.status === 'accepted' ? colors.green('accepted') : colors.yellow('partially accepted')}: ${who} by ${run.server}: ${formatReply(reply)}`,
      );
      if (outcome.queueId !== null) terminal.out(`queue id: ${outcome.queueId}`);
    }
    return;
  }
  const seconds = run.durationMs / 1000;
  terminal.out(
    `${tally.accepted} accepted, ${tally.partial} partial, ${tally.failed} failed of ${tally.count} messages to ${run.server} in ${seconds.toFixed(2)} s (${(tally.count / seconds).toFixed(1)} msg/s)`,
  );
  const errors = new Map<string, number>();
  for (const outcome of run.outcomes) {
    if (outcome.error) errors.set(outcome.error.message, (errors.get(outcome.error.message) ?? 0) + 1);
  }
  for (const [message, times] of errors)
    terminal.error(terminal.errorColors.red(`smtp send: ${times} × ${message}`));
}

/** --mt-priority read by the MT-PRIORITY descriptor's own grammar (RFC 6710: an optional sign and one digit). */
function parseMailParameterRequests(flags: SendFlags): MailParameterRequests {
  if (flags.mtPriority === undefined) return {};
  const mtPriority = mailParameters.mtPriority.parse(flags.mtPriority.trim(), false);
  if (mtPriority === undefined) {
    throw usageError(
      `--mt-priority '${flags.mtPriority}': give an integer from -9 (lowest) to 9 (highest) (RFC 6710), e.g. --mt-priority 3`,
    );
  }
  return { mtPriority };
}

function parseDsn(flags: SendFlags): DsnOptions | undefined {
  let notify: DsnNotify | undefined;
  let ret: DsnReturn | undefined;
  const envid = flags.dsnEnvid;
  // The core's ENVID rule (RFC 3461 §4.4), the one the client applies before sending.
  const envidRefusal = envid === undefined ? null : envidProblem(envid);
  if (envidRefusal !== null) {
    throw usageError(`--dsn-envid '${envid}': ${envidRefusal}, e.g. --dsn-envid order-1234`);
  }
  // NOTIFY and RET by their descriptors' grammar (RFC 3461 §4.1, §4.3), spaces after commas forgiven.
  if (flags.dsnNotify !== undefined) {
    notify = rcptParameters.notify.parse(flags.dsnNotify.replace(/\s+/g, ''), false);
    if (notify === undefined) {
      throw usageError(
        `--dsn-notify '${flags.dsnNotify}': give NEVER, or a comma list of SUCCESS, FAILURE, DELAY (RFC 3461 §4.1)`,
      );
    }
  }
  if (flags.dsnRet !== undefined) {
    ret = mailParameters.ret.parse(flags.dsnRet, false);
    if (ret === undefined) throw usageError(`--dsn-ret '${flags.dsnRet}': give FULL or HDRS (RFC 3461 §4.3)`);
  }
  const orcpt = flags.dsnOrcpt === true;
  if (notify === undefined && ret === undefined && envid === undefined && !orcpt) return undefined;
  return {
    ...(orcpt ? { orcpt } : {}),
    ...(notify !== undefined ? { notify } : {}),
    ...(ret !== undefined ? { ret } : {}),
    ...(envid !== undefined ? { envid } : {}),
  };
}
