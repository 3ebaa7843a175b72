import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { dirname, join } from 'node:path';
import { Command } from 'commander';
import { usageError } from '../cli-error.js';
import type { CommandContext } from '../program-context.js';

const appPackage = '@smtp/app';

const examples = `
Examples:
  $ smtp catch                                   SMTP 127.0.0.1:2525, inbox http://127.0.0.1:8025
  $ smtp catch --smtp-port 1025 --http-port 8025 where Mailpit listens
  $ npx @smtp/app                                the same without installing anything

Every flag goes to smtp-app (the @smtp/app package); \`smtp-app --help\` lists them.
`;

/**
 * `smtp catch`: the mail catcher with a web inbox is the @smtp/app package, not this CLI, so that
 * installing the CLI does not pull in a database and a web UI. When the app is installed next to the
 * CLI (e.g. both with `npm install -g`), this runs it; otherwise it says how to get it.
 */
export function createCatchCommand(_context: CommandContext): Command {
  return new Command('catch')
    .summary('run the mail catcher with a web inbox (the @smtp/app package, like Mailpit)')
    .description(
      'Run the @smtp app in capture mode: it accepts every message on its SMTP port and shows it in a web inbox ' +
        'and a REST API. Needs @smtp/app installed beside @smtp/cli (npm install -g @smtp/app), or use npx @smtp/app.',
    )
    .argument('[app-flags...]', 'flags for smtp-app, passed on as given')
    .allowUnknownOption(true)
    .addHelpText('after', examples)
    .action(async (appFlags: string[]) => {
      await runApp(findAppBinary(), appFlags);
    });
}

function findAppBinary(): string {
  let manifestPath: string;
  try {
    manifestPath = createRequire(import.meta.url).resolve(`${appPackage}/package.json`);
  } catch {
    throw usageError(
      `the mail catcher is the ${appPackage} package, which is not installed here: run it with ` +
        `'npx ${appPackage}' (flags as in 'npx ${appPackage} --help'), or 'npm install -g ${appPackage}' and then 'smtp catch'`,
    );
  }
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { bin?: Record<string, string> };
  const binary = manifest.bin?.['smtp-app'];
  if (binary === undefined)
    throw usageError(`${manifestPath} names no smtp-app binary: reinstall ${appPackage}`);
  return join(dirname(manifestPath), binary);
}

/** Runs the app in the foreground; its exit code (its own sysexits numbers) becomes ours. */
function runApp(binary: string, appFlags: readonly string[]): Promise<never> {
  const child = spawn(process.execPath, [binary, ...appFlags], { stdio: 'inherit' });
  // Ctrl-C reaches the app through the terminal's process group; a SIGTERM sent to us alone is passed on.
  const forward = () => child.kill('SIGTERM');
  process.on('SIGTERM', forward);
  return new Promise((_resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      process.off('SIGTERM', forward);
      // Nothing of ours is buffered on stdout (the app wrote to the inherited streams), so exit here.
      // A signal's death reads as the shell shows it: 128 + the signal number.
      process.exit(code ?? 128 + (signal === null ? 0 : constants.signals[signal]));
    });
  });
}
