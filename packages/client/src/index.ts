// @smtp/client: named re-exports only.
export { type SmtpClient, type VerifyResult, createClient } from './create-client.js';
export { type SendMailOptions, type SendMailResult, sendMail } from './send-mail.js';
export { type SessionOptions, type SmtpSession, connect } from './session.js';
export type { CertificateDetails, TlsDetails } from './tls-details.js';
export {
  type AddressFamily,
  type DeliverOptions,
  type DeliveryReport,
  type RecipientDelivery,
  type RecipientStatus,
  deliver,
} from './deliver.js';
export { DeliveryConnections, type DeliveryConnectionsOptions } from './delivery-connections.js';
export type { LocalAddresses } from './dial.js';
export {
  type MxHost,
  type MxResolution,
  type MxResolver,
  createSystemResolver,
  resolveMx,
} from './resolve-mx.js';
export { createMtaStsFetcher } from './mta-sts-fetcher.js';
export {
  discoverMtaStsPolicy,
  fetchMtaStsPolicy,
  lookUpMtaStsRecord,
  lookUpTlsRptRecord,
  MtaStsCache,
  type MtaStsFetcher,
  type MtaStsOptions,
} from './mta-sts.js';
export {
  type ComposeAddress,
  type ComposeAttachment,
  type ComposedMessage,
  type ComposeOptions,
  compose,
} from './compose.js';
export { SmtpConnectionError, SmtpTimeoutError, SmtpTlsError, type TimeoutKind } from './errors.js';
export type { MessageSource } from './message-source.js';
export type {
  AddressInput,
  AuthOptions,
  ClientOptions,
  ConnectOptions,
  DsnOptions,
  NodemailerAuthOptions,
  RecipientDsnOptions,
  PoolOptions,
  RecipientReport,
  SendOptions,
  SendResult,
  SendTimings,
  StartTlsPolicy,
  TimeoutOptions,
  TlsOptions,
} from './options.js';
// Errors and values shared with the core, so one import is enough.
export {
  SmtpCapabilityError,
  SmtpError,
  SmtpProtocolError,
  SmtpReplyError,
  SmtpUsageError,
} from '@smtp/protocol';
export type { Capabilities, EnhancedStatus, Mailbox, Reply } from '@smtp/protocol';
