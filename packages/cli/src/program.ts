import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { type ExitCode, exitCodes } from './exit-codes.js';
import { applyBooleanEnv } from './options/boolean-env.js';
import { createTerminal } from './output/terminal.js';
import type { CommandContext } from './program-context.js';

type CreateCommand = (context: CommandContext) => Command;

/**
 * Each subcommand's module, in the order --help lists them. Loaded on demand (each is a chunk of the
 * bundle): a run loads only its own command's packages, so `smtp bench` starts without @smtp/client,
 * the DNS resolver or the server, and a short load test is not measuring Node's module loading.
 */
const commandModules = {
  send: async (): Promise<CreateCommand> => (await import('./commands/send.js')).createSendCommand,
  probe: async (): Promise<CreateCommand> => (await import('./commands/probe.js')).createProbeCommand,
  mx: async (): Promise<CreateCommand> => (await import('./commands/mx.js')).createMxCommand,
  bench: async (): Promise<CreateCommand> => (await import('./commands/bench.js')).createBenchCommand,
  serve: async (): Promise<CreateCommand> => (await import('./commands/serve.js')).createServeCommand,
  catch: async (): Promise<CreateCommand> => (await import('./commands/catch.js')).createCatchCommand,
} as const;

type Subcommand = keyof typeof commandModules;
const subcommands = Object.keys(commandModules) as Subcommand[];

const overview = `
Examples:
  $ smtp send --server mx.example.com --to you@example.com
  $ smtp probe smtp.gmail.com:587
  $ smtp mx example.com
  $ smtp bench --server 127.0.0.1:2525 --count 10000 --concurrency 20
  $ smtp serve --listen 127.0.0.1:2525 --maildir ./mail
  $ smtp catch                       the mail catcher with a web inbox (@smtp/app)

Exit codes: 0 ok, 1 usage error, 2 temporary failure (4xx), 3 permanent failure (5xx),
            4 network/TLS/timeout error, 5 partial (some recipients rejected)
Environment: SMTP_SERVER, SMTP_FROM, SMTP_USER, SMTP_PASSWORD, SMTP_AUTH_MECH, SMTP_EHLO,
             SMTP_STARTTLS, SMTP_TLS, SMTP_INSECURE, SMTP_TIMEOUT, SMTP_DNS_SERVER, NO_COLOR
             (SMTP_TLS and SMTP_INSECURE take 1/0, true/false or yes/no)
`;

function readVersion(): string {
  try {
    // dist/bin.js → ../package.json
    const text = readFileSync(new URL('../package.json', import.meta.url), 'utf8');
    return (JSON.parse(text) as { version?: string }).version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** Runs the CLI with these arguments (without `node` and the script) and resolves with the exit code. */
export async function main(argv: readonly string[]): Promise<ExitCode> {
  const color = !argv.includes('--no-color');
  const terminal = createTerminal({ color });
  let exitCode: ExitCode = exitCodes.ok;
  const context = {
    terminal,
    setExitCode: (code: ExitCode) => {
      exitCode = code;
    },
  };
  const program = new Command('smtp')
    .description(
      'Send, probe, look up, benchmark and serve SMTP: the tool for testing and debugging mail systems.',
    )
    .version(readVersion(), '-V, --version')
    .option('--no-color', 'no colours (also: NO_COLOR=1, or output that is not a terminal)')
    .addHelpText('after', overview)
    .showSuggestionAfterError(true)
    .configureHelp({ sortSubcommands: false, showGlobalOptions: true, helpWidth: 100 });
  // The command named first (after the global options) alone; every command for --help, `help`, a
  // typo (commander suggests among all of them) or no command at all.
  const requested = requestedSubcommand(argv);
  const creators = await Promise.all(
    (requested === null ? subcommands : [requested]).map((name) => commandModules[name]()),
  );
  for (const create of creators) program.addCommand(create(context));
  // One style of error everywhere: commander reports through exceptions, main prints one line.
  const configure = (command: Command) => {
    command.exitOverride().configureOutput({
      writeOut: (text) => process.stdout.write(text),
      writeErr: (text) => process.stderr.write(text),
      outputError: () => {},
    });
    if (command !== program)
      command.option('--no-color', 'no colours (also NO_COLOR=1)').configureHelp({ helpWidth: 100 });
    for (const child of command.commands) configure(child);
  };
  configure(program);
  // SMTP_TLS=0 means off: commander alone would turn the flag on for any value.
  program.hook('preAction', (_program, actionCommand) => applyBooleanEnv(actionCommand));

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return exitCodes.ok;
      if (error.code === 'commander.help' || error.code === 'commander.executeSubCommandAsync')
        return exitCodes.usage;
    }
    // Loaded on an error only: it knows @smtp/client's errors, which a bench run never loads otherwise.
    const { describeError } = await import('./describe-error.js');
    const described = describeError(error);
    const name = subcommandOf(argv);
    const hint = error instanceof CommanderError ? ` (see 'smtp${name ? ` ${name}` : ''} --help')` : '';
    terminal.error(terminal.errorColors.red(`smtp${name ? ` ${name}` : ''}: ${described.message}${hint}`));
    if (process.env.SMTP_DEBUG && error instanceof Error && error.stack) terminal.error(error.stack);
    return described.exitCode;
  }
}

function subcommandOf(argv: readonly string[]): string | null {
  return argv.find((argument) => (subcommands as readonly string[]).includes(argument)) ?? null;
}

/** The subcommand when the first argument that is not a global option names one; otherwise null. */
function requestedSubcommand(argv: readonly string[]): Subcommand | null {
  const first = argv.find((argument) => !argument.startsWith('-'));
  return first !== undefined && Object.hasOwn(commandModules, first) ? (first as Subcommand) : null;
}
