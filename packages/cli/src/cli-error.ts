import { type ExitCode, exitCodes } from './exit-codes.js';

/**
 * An error the CLI reports as one line and an exit code. `message` says what is wrong and how to fix it,
 * e.g. "--server 'mail:99999': the port must be 1..65535".
 */
export class CliError extends Error {
  override readonly name: string = 'CliError';
  readonly exitCode: ExitCode;

  constructor(message: string, exitCode: ExitCode = exitCodes.usage, options: { cause?: unknown } = {}) {
    super(message, options);
    this.exitCode = exitCode;
  }
}

/** Bad flags or input. */
export function usageError(message: string): CliError {
  return new CliError(message, exitCodes.usage);
}
