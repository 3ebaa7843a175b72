import type { Logger } from '../../src/index.js';

export interface LogRecord {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly event?: string;
  readonly [field: string]: unknown;
}

/** A pino-compatible logger that keeps every record in memory, all levels on. */
export function createMemoryLogger(): Logger & { readonly records: LogRecord[] } {
  const records: LogRecord[] = [];
  const at =
    (level: LogRecord['level']) =>
    (object: object): void => {
      records.push({ level, ...object });
    };
  return {
    records,
    level: 'debug',
    isLevelEnabled: () => true,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
  };
}
