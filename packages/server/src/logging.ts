/**
 * The logger the server writes to: any pino-compatible object (pino, or `console`-like adapters with
 * `(object, message)` methods). Every record carries an `event` field so logs can be filtered by kind.
 */
export interface Logger {
  debug(object: object, message?: string): void;
  info(object: object, message?: string): void;
  warn(object: object, message?: string): void;
  error(object: object, message?: string): void;
  /** pino: create a logger that adds `bindings` to every record. Optional. */
  child?(bindings: Record<string, unknown>): Logger;
  /** pino: whether a level is on. Optional; without it `debug` records are produced only if the level says so. */
  isLevelEnabled?(level: string): boolean;
  level?: string;
}

/** The structured events the server logs. */
export type LogEvent =
  | 'listen'
  | 'connect'
  | 'connection-refused'
  | 'proxy'
  | 'xclient'
  | 'command'
  | 'reply'
  | 'tls'
  | 'tls-failed'
  | 'auth-ok'
  | 'auth-failed'
  | 'message-accepted'
  | 'message-rejected'
  | 'handler-error'
  | 'timeout'
  | 'tarpit'
  | 'socket-error'
  | 'close';

const noop = (): void => {};

/** Logs nothing. The default: a library should be silent unless asked. */
export const silentLogger: Logger = {
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  isLevelEnabled: () => false,
};

/** Whether debug records (every command and reply) are wanted; checked once per server, not per line. */
export function isDebugEnabled(logger: Logger): boolean {
  return isLevelEnabled(logger, 'debug');
}

/**
 * Whether records of this level are wanted. Checked once per server, so that a silent logger costs
 * nothing per message: no record object is built for a level that is off.
 */
export function isLevelEnabled(logger: Logger, level: 'debug' | 'info' | 'warn'): boolean {
  if (logger === silentLogger) return false;
  if (typeof logger.isLevelEnabled === 'function') return logger.isLevelEnabled(level);
  if (level !== 'debug') return true;
  return logger.level === 'debug' || logger.level === 'trace';
}
