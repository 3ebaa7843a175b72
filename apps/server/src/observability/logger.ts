import { type Logger, pino } from 'pino';

export type { Logger };

/** JSON lines on stdout (pino): structured, fast, and what log collectors expect. */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    { level, base: { service: 'smtp-app' }, timestamp: pino.stdTimeFunctions.isoTime },
    destination ?? process.stdout,
  );
}
