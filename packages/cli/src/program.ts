import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { createBenchCommand } from './commands/bench.js';
import { createCatchCommand } from './commands/catch.js';
import { createMxCommand } from './commands/mx.js';
import { createProbeCommand } from './commands/probe.js';
import { createSendCommand } from './commands/send.js';
import { createServeCommand } from './commands/serve.js';
import { describeError } from './describe-error.js';
import { type ExitCode, exitCodes } from './exit-codes.js';
import { applyBooleanEnv } from './options/boolean-env.js';
import { createTerminal } from './output/terminal.js';

const subcommands = ['send', 'probe', 'mx', 'bench', 'serve', 'catch'] as const;

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
  for (const create of [
    createSendCommand,
    createProbeCommand,
    createMxCommand,
    createBenchCommand,
    createServeCommand,
    createCatchCommand,
  ]) {
    program.addCommand(create(context));
  }
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
