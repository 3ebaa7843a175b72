// @smtp/server: named re-exports only.

// Re-exported so applications can reject without importing the core themselves.
export { replies, SmtpReplyError } from '@smtp/protocol';
export {
  type CloseOptions,
  createServer,
  type ServerLimits,
  SmtpServer,
  type SmtpServerEvents,
  type SmtpServerOptions,
} from './create-server.js';
export type {
  AcceptText,
  AuthVerdict,
  AuthenticatedUser,
  AuthorizationRequest,
  LmtpDataResult,
  ServerHooks,
  SessionEnvelope,
  SessionRecipient,
  SmtpSession,
} from './hooks.js';
export type { AuthThrottleOptions, ConnectionLimitOptions } from './limits.js';
export { clientKey } from './limits.js';
export type { ListenerAddress, ListenOptions } from './listeners.js';
export { type LogEvent, type Logger, silentLogger } from './logging.js';
export { MessageAbortedError, MessageStream } from './message-stream.js';
export { ServerMetrics, type ServerMetricsSnapshot } from './metrics.js';
export type { TarpitOptions } from './tarpit.js';
export type { TimeoutOptions } from './timeouts.js';
export type { TlsInfo, TlsOptions } from './tls-context.js';
