import { CliError } from './cli-error.js';
import { exitCodes } from './exit-codes.js';

/**
 * smtp refusing by itself before the server could judge the message: the server lacks `extension`
 * (an EHLO keyword such as STARTTLS or AUTH), or going on without it would be unsafe. Exit code 6.
 */
export class ClientRefusalError extends CliError {
  override readonly name = 'ClientRefusalError';
  readonly extension: string;

  constructor(extension: string, message: string) {
    super(message, exitCodes.refusedByClient);
    this.extension = extension;
  }
}
