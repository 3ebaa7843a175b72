import picocolors from 'picocolors';
import { watchForClosedPipe } from './closed-pipe.js';

export type Colors = ReturnType<typeof picocolors.createColors>;

/** How results are shown: the transcript (default), only the outcome, or one JSON document. */
export type OutputMode = 'transcript' | 'quiet' | 'json';

/**
 * Where the CLI writes. Results go to stdout, diagnostics and progress to stderr, so
 * `smtp send --json | jq` always gets clean JSON. Colour follows picocolors: off for NO_COLOR, for
 * output that is not a terminal, and with --no-color; FORCE_COLOR turns it on.
 */
export interface Terminal {
  readonly colors: Colors;
  readonly errorColors: Colors;
  out(line: string): void;
  error(line: string): void;
  readonly isErrorTty: boolean;
}

export function createTerminal(options: { color?: boolean } = {}): Terminal {
  const forced = process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== '0';
  const disabled = options.color === false || 'NO_COLOR' in process.env;
  const stdoutColor = !disabled && (forced || (process.stdout.isTTY === true && process.env.TERM !== 'dumb'));
  const stderrColor = !disabled && (forced || (process.stderr.isTTY === true && process.env.TERM !== 'dumb'));
  const isStdoutOpen = watchForClosedPipe(process.stdout);
  const isStderrOpen = watchForClosedPipe(process.stderr);
  return {
    colors: picocolors.createColors(stdoutColor),
    errorColors: picocolors.createColors(stderrColor),
    out: (line) => {
      if (isStdoutOpen()) process.stdout.write(`${line}\n`);
    },
    error: (line) => {
      if (isStderrOpen()) process.stderr.write(`${line}\n`);
    },
    isErrorTty: process.stderr.isTTY === true,
  };
}

/** Writes a JSON document on stdout. */
export function printJson(terminal: Terminal, value: unknown): void {
  terminal.out(JSON.stringify(value, null, 2));
}
