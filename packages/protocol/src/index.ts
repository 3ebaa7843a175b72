// @smtp/protocol: named re-exports only. Each section belongs to one area of the core.

// errors and shared values
export { SmtpCapabilityError, SmtpError, SmtpReplyError, SmtpUsageError } from './errors.js';
export type { ParseResult } from './parse-result.js';
export type { Domain, ForwardPath, Mailbox, ReversePath } from './address/mailbox.js';
export type {
  BodyType,
  Command,
  CommandSyntax,
  DsnNotify,
  DsnReturn,
  EsmtpParameter,
  HelloVerb,
  MailParameters,
  RcptParameters,
  Verb,
} from './command/command.js';
export type { EnhancedStatus, Reply, ReplyInit } from './reply/reply.js';
export { createReply, isEnhancedStatus } from './reply/create-reply.js';
export { type ReplyName, replies } from './reply/reply-catalog.js';

// --- bytes, addresses, commands (grammar) ---
export { decodeBase64, encodeBase64 } from './bytes/base64.js';
export { decodeLatin1, decodeUtf8, encodeUtf8, isAscii } from './bytes/utf8.js';
export { decodeXtext, encodeXtext } from './bytes/xtext.js';
export { parseDomain, parseForwardPath, parseMailbox, parseReversePath } from './address/parse-path.js';
export { domainToAscii, mailboxWithAsciiDomain } from './address/idna.js';
export {
  serializeDomain,
  serializeForwardPath,
  serializeMailbox,
  serializeReversePath,
} from './address/serialize-path.js';
export { parseCommand } from './command/parse-command.js';
export { serializeCommand } from './command/serialize-command.js';
export {
  describeMailParameters,
  parseMailParameters,
  serializeMailParameters,
} from './command/mail-parameters.js';
export {
  describeRcptParameters,
  parseRcptParameters,
  serializeRcptParameters,
} from './command/rcpt-parameters.js';
export { parseXclientAttributes, type XclientPeer, xclientAttributeNames } from './proxy/xclient.js';
export {
  isMxAllowedByPolicy,
  type MtaStsMode,
  mtaStsPolicyUrl,
  type MtaStsPolicy,
  parseMtaStsPolicy,
  parseMtaStsRecords,
} from './mta-sts/mta-sts-policy.js';
export { parseTlsRptRecords } from './mta-sts/tls-rpt-record.js';

// --- delivery status notifications (RFC 3461, RFC 3464) ---
export { buildDsn, dsnChunks } from './dsn/build-dsn.js';
export { deliveredRecipients } from './dsn/delivered-recipients.js';
export { dsnWanted } from './dsn/dsn-wanted.js';
export {
  type DeliveryStatusNotification,
  type DsnAction,
  type DsnInit,
  type DsnRecipient,
  dsnActions,
} from './dsn/dsn-types.js';
export { formatMessageDate } from './dsn/message-date.js';
// --- ESMTP extensions: one descriptor each, and the tables the core loops over ---
export type {
  CapabilityCodec,
  EnvelopeRequest,
  EsmtpExtension,
  MailCheckContext,
  MailParameter,
  ParameterCodec,
  PlanContext,
  RcptParameter,
  ServerOffer,
} from './extension/esmtp-extension.js';
export {
  type EsmtpExtensionName,
  type EsmtpExtensionTable,
  esmtpExtensions,
  type KnownCapabilities,
  type KnownMailParameters,
  type KnownRcptParameters,
  type MailParameterRequests,
  mailParameters,
  rcptParameters,
  requestedMailParameters,
  type ResolvedExtensionOptions,
  type ServerExtensionOptions,
} from './extension/esmtp-extensions.js';
export { pickMailParameterRequests } from './extension/pick-mail-parameter-requests.js';
export type { DeliverBy } from './extension/deliver-by-extension.js';
export { envidProblem, type OriginalRecipient } from './extension/dsn-extension.js';

// --- replies, capabilities, proxy ---
export { type ReplyParseResult, ReplyParser, type ReplyParserOptions } from './reply/reply-parser.js';
export { type SerializeReplyOptions, serializeReply } from './reply/serialize-reply.js';
export { describeReplyCode, type ReplyCode, replyCodes } from './reply/reply-codes.js';
export { extractQueueId } from './reply/queue-id.js';
export {
  describeEnhancedStatus,
  type EnhancedStatusKey,
  enhancedStatusClasses,
  enhancedStatusCodes,
  enhancedStatusSubjects,
} from './reply/enhanced-status.js';
export {
  type Capabilities,
  emptyCapabilities,
  parseCapabilities,
  serializeCapabilities,
} from './reply/capabilities.js';
export {
  type ProxyEndpoint,
  type ProxyHeader,
  type ProxyHeaderParseResult,
  type ProxyProtocol,
  parseProxyHeader,
  serializeProxyHeaderV1,
  serializeProxyHeaderV2,
} from './proxy/proxy-header.js';
export type { SerializeProxyHeaderV2Options } from './proxy/proxy-header-v2.js';

// --- message codecs (DATA/BDAT) ---
export {
  type DotDecodeResult,
  DotDecoder,
  type DotDecoderOptions,
  type DotViolation,
} from './message/dot-decoder.js';
export { DotEncoder } from './message/dot-encoder.js';
export { type PreparedMessage, prepareMessage } from './message/prepared-message.js';
export { BdatReader, encodeBdat } from './message/bdat.js';
export { LineEndingNormalizer } from './message/line-ending-normalizer.js';
export { hasEightBit } from './message/eight-bit.js';
export { normalizedMessageSize } from './message/normalized-size.js';

// --- trace fields ---
export {
  type ReceivedWithFacts,
  type ReceivedWithProtocol,
  receivedWithProtocol,
  receivedWithProtocols,
} from './trace/received-with.js';

// --- sasl ---
export {
  carriesAuthorizationId,
  isPlaintextMechanism,
  isSaslMechanismName,
  type SaslMechanismName,
  saslMechanismNames,
} from './sasl/sasl-mechanism.js';
export type {
  SaslCredentials,
  SaslSecret,
  SaslServer,
  SaslServerOptions,
  SaslServerStep,
  ScramStoredCredentials,
} from './sasl/sasl-server.js';
export type {
  SaslClient,
  SaslClientCredentials,
  SaslClientOptions,
  SaslClientResult,
} from './sasl/sasl-client.js';
export { createSaslServer } from './sasl/create-sasl-server.js';
export { createSaslClient } from './sasl/create-sasl-client.js';
export { deriveScramCredentials } from './sasl/scram-credentials.js';

// --- server session ---
export { encodeGreeting, type GreetingCode } from './server/server-greeting.js';
export { ServerSession } from './server/server-session.js';
export type { ServerSessionOptions } from './server/server-options.js';
export type {
  AuthenticatedIdentity,
  CloseReason,
  Envelope,
  MessageAbortReason,
  PendingServerEvent,
  Recipient,
  SaslAppStep,
  ServerEvent,
  ServerState,
  ServerTimeout,
} from './server/server-events.js';
export {
  type CommandPhase,
  findTransition,
  isServerStep,
  type ServerAction,
  type ServerExit,
  type ServerGuard,
  type ServerPhase,
  type ServerStep,
  serverExits,
  serverGuards,
  serverTransitions,
  type Transition,
  verbExtensions,
  verbsBeforeTls,
} from './server/server-transitions.js';

// --- client session ---
export { ClientSession } from './client/client-session.js';
export type {
  ClientEvent,
  ClientPhase,
  ClientSessionOptions,
  ClientState,
  ClientTimeout,
  EnvelopeInit,
  RecipientInit,
  RecipientReply,
  TransactionResult,
} from './client/client-events.js';
export { SmtpProtocolError } from './errors.js';
