import { runHashPasswordCommand } from './accounts/hash-password-command.js';
import { startApp } from './app.js';
import { runCheckCommand } from './cli/check-command.js';
import { runQueueCommand } from './cli/queue-command.js';
import { ConfigError, formatHelp, loadConfig } from './config/load-config.js';
import { exitCodes } from './exit-codes.js';
import { createConsoleLogger, resolveLogFormat } from './observability/logger.js';
import { formatStartupBanner } from './startup-banner.js';
import { StartupError } from './startup-error.js';

/** `smtp-app`: load the configuration, start, and stop cleanly on SIGINT/SIGTERM. */
async function main(): Promise<void> {
  if (process.argv[2] === 'hash-password') {
    process.exitCode = await runHashPasswordCommand(process.stdin, process.stdout);
    return;
  }
  if (process.argv[2] === 'check') {
    process.exitCode = await runCheckCommand(process.argv.slice(3), {
      stdout: process.stdout,
      env: process.env,
    });
    return;
  }
  if (process.argv[2] === 'queue') {
    process.exitCode = await runQueueCommand(process.argv.slice(3), {
      stdout: process.stdout,
      stderr: process.stderr,
      env: process.env,
    });
    return;
  }
  let loaded: ReturnType<typeof loadConfig>;
  try {
    loaded = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`smtp-app: ${error.message}\n`);
      process.exit(exitCodes.config);
    }
    throw error;
  }
  if (loaded.isHelpRequested) {
    process.stdout.write(`${formatHelp()}\n`);
    return;
  }
  const format = resolveLogFormat(loaded.config.log.format, process.stdout);
  const logger = createConsoleLogger(loaded.config.log.level, format);
  if (loaded.configFile !== null) logger.info({ configFile: loaded.configFile }, 'configuration loaded');
  const app = await startApp({ config: loaded.config, logger });
  // A person at a terminal gets the banner; machines get the same facts in the JSON start record.
  if (format === 'pretty') process.stdout.write(`\n${formatStartupBanner(app, loaded.config.mode)}\n`);
  let isStopping = false;
  const stop = (signal: string) => {
    if (isStopping) return;
    isStopping = true;
    logger.info({ signal }, 'stopping');
    app.stop().then(
      () => process.exit(exitCodes.ok),
      (error: unknown) => {
        logger.error({ err: error }, 'stop failed');
        process.exit(exitCodes.unexpected);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  // `systemctl reload` or certbot's deploy hook: renewed certificates now, not at the next look.
  // Only with certificate files: otherwise a closed terminal's SIGHUP ends the app, as before.
  if (app.certificates.settings.length > 0)
    process.on('SIGHUP', () => {
      logger.info(
        { signal: 'SIGHUP', certificates: app.certificates.settings },
        'reloading TLS certificates',
      );
      app.certificates
        .check({ force: true })
        .catch((error: unknown) => logger.error({ err: error }, 'TLS certificate reload failed'));
    });
}

main().catch((error: unknown) => {
  // A known cause outside the program: one line that says what to do, and its own exit code.
  if (error instanceof StartupError) {
    process.stderr.write(`smtp-app: ${error.message}\n`);
    process.exit(error.exitCode);
  }
  process.stderr.write(`smtp-app: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(exitCodes.unexpected);
});
