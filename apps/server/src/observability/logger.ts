import { type Logger, pino } from 'pino';
import { PrettyLogStream } from './pretty-log-stream.js';

export type { Logger };

/** JSON lines on stdout (pino): structured, fast, and what log collectors expect. */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    { level, base: { service: 'smtp-app' }, timestamp: pino.stdTimeFunctions.isoTime },
    destination ?? process.stdout,
  );
}

export type LogFormat = 'json' | 'pretty';

/** log.format 'auto' picks pretty for a person at a terminal, JSON for pipes and collectors. */
export function resolveLogFormat(
  format: LogFormat | 'auto',
  stream: { readonly isTTY?: boolean },
): LogFormat {
  if (format !== 'auto') return format;
  return stream.isTTY === true ? 'pretty' : 'json';
}

/** The app's logger on stdout in the chosen format. */
export function createConsoleLogger(level: string, format: LogFormat): Logger {
  return createLogger(level, format === 'pretty' ? new PrettyLogStream(process.stdout) : undefined);
}
