import type { ExitCode } from './exit-codes.js';
import type { Terminal } from './output/terminal.js';

/** What every command's action gets: where to write, and where to put its exit code. */
export interface CommandContext {
  readonly terminal: Terminal;
  setExitCode(code: ExitCode): void;
}
