export {
  checkFindingSchema,
  type HtmlCheckWire,
  htmlCheckSchema,
  type LinkCheckWire,
  type ListUnsubscribeReportWire,
  linkCheckSchema,
  listUnsubscribeReportSchema,
} from './check-schemas.js';
export { errorSchema } from './error-schema.js';
export { type MailboxEvent, mailboxEventSchema } from './mailbox-event-schema.js';
export {
  type Address,
  type Attachment,
  addressSchema,
  attachmentListSchema,
  attachmentSchema,
  envelopeSchema,
  type Message,
  type MessagePage,
  type MessageSummary,
  messagePageSchema,
  messagePartsSchema,
  messageSchema,
  messageSummarySchema,
  smtpSessionSchema,
} from './message-schemas.js';
export {
  deleteAllResultSchema,
  markAllReadRequestSchema,
  markAllReadResultSchema,
  readFlagSchema,
  readFlagUpdateSchema,
} from './read-flag-schemas.js';
export {
  type ReleaseRequest,
  type ReleaseResult,
  releaseRequestSchema,
  releaseResultSchema,
} from './release-schemas.js';
export { type SendRequest, sendRequestSchema, sendResultSchema } from './send-schemas.js';
export { type ServerInfo, serverInfoSchema } from './server-info-schema.js';
export { type SmtpListeners, smtpListenersSchema } from './smtp-listeners-schema.js';
export {
  messageTagsSchema,
  tagChangeResultSchema,
  tagListSchema,
  tagRenameSchema,
  tagsUpdateSchema,
} from './tag-schemas.js';
