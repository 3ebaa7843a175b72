/**
 * What parsing derives from a message's raw bytes: headers, addresses, bodies, attachment metadata.
 * The parser's own output types: nothing here knows where messages are kept.
 */

/** An address as it appears in a header, parsed. */
export interface MessageAddress {
  readonly name: string;
  readonly address: string;
}

export interface AttachmentMetadata {
  /** Position among the message's attachments; the key used by the download API. */
  readonly index: number;
  readonly filename: string | null;
  readonly contentType: string;
  readonly disposition: 'attachment' | 'inline' | null;
  readonly contentId: string | null;
  readonly sizeBytes: number;
}

export interface MessageHeader {
  readonly name: string;
  readonly value: string;
}

export interface ParsedMessage {
  readonly subject: string;
  readonly from: MessageAddress | null;
  readonly to: readonly MessageAddress[];
  readonly cc: readonly MessageAddress[];
  readonly bcc: readonly MessageAddress[];
  readonly replyTo: readonly MessageAddress[];
  readonly messageIdHeader: string | null;
  /** The Date header in ms since the epoch, null when absent or unparsable. */
  readonly dateHeaderMs: number | null;
  readonly headers: readonly MessageHeader[];
  readonly text: string | null;
  readonly html: string | null;
  readonly attachments: readonly AttachmentMetadata[];
  /**
   * False when only the header section was parsed (parseHeaderSection): text, html and attachments
   * are then unknown, not absent, and the body is not in the search index. Absent: all was parsed.
   */
  readonly bodyParsed?: false;
}

/** The parse of a message nothing could be read from. */
export const emptyParsedMessage: ParsedMessage = {
  subject: '',
  from: null,
  to: [],
  cc: [],
  bcc: [],
  replyTo: [],
  messageIdHeader: null,
  dateHeaderMs: null,
  headers: [],
  text: null,
  html: null,
  attachments: [],
};
