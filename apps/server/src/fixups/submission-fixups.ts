/**
 * RFC 6409 §8 as a streaming step: the submission server prepends a Received line (RFC 5321 §4.4)
 * and adds Date (§8.1) and Message-ID (§8.3) when the client left them out. Only the header block is
 * held (up to maxHeaderBytes); the body streams through untouched, and nothing else changes: the
 * added fields go after the client's last header line, with CRLF.
 */
/** The client's header fields, unfolded, by lower-case name. */
export interface HeaderFields {
  values(name: string): readonly string[];
}

export interface SubmissionFixupOptions {
  /** A complete Received field, CRLF-terminated (formatReceivedHeader). */
  readonly receivedHeader: string;
  /** RFC 5322 date-time for a missing Date field. */
  readonly date: string;
  /** "<unique@hostname>" for a missing Message-ID field. */
  readonly messageId: string;
  /**
   * Header bytes held while looking for the blank line (default 256 KiB). A header block longer than
   * that passes through without the Date/Message-ID check; the Received line is still added.
   */
  readonly maxHeaderBytes?: number;
  /**
   * Sees the client's header fields once the header block is complete, before any of it is passed on.
   * Throwing (an SmtpReplyError) ends the stream with that error: the message is refused.
   */
  readonly onHeader?: (fields: HeaderFields) => void;
}

const defaultMaxHeaderBytes = 256 * 1024;
const encoder = new TextEncoder();
const CR = 0x0d;
const LF = 0x0a;

export async function* applySubmissionFixups(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: SubmissionFixupOptions,
): AsyncGenerator<Uint8Array> {
  const maxHeaderBytes = options.maxHeaderBytes ?? defaultMaxHeaderBytes;
  yield encoder.encode(options.receivedHeader);
  let held: Uint8Array = new Uint8Array(0);
  let isLookingForBody = true;
  for await (const chunk of source) {
    if (!isLookingForBody) {
      yield chunk;
      continue;
    }
    const searchFrom = Math.max(0, held.byteLength - 3);
    held = concat(held, chunk);
    const bodyStart = findBodyStart(held, searchFrom);
    if (bodyStart !== -1) {
      isLookingForBody = false;
      yield* completeHeader(held.subarray(0, bodyStart), options);
      if (bodyStart < held.byteLength) yield held.subarray(bodyStart);
      held = new Uint8Array(0);
    } else if (held.byteLength > maxHeaderBytes) {
      isLookingForBody = false;
      yield held;
      held = new Uint8Array(0);
    }
  }
  // No blank line: the message is all header (RFC 5322 §3.5 allows no body).
  if (isLookingForBody) yield* completeHeader(held, options);
}

/**
 * Where the blank line that ends the header block starts (the header block keeps its last CRLF), or
 * -1. A message that starts with CRLF has an empty header block: 0.
 */
function findBodyStart(bytes: Uint8Array, from: number): number {
  if (bytes.byteLength >= 2 && bytes[0] === CR && bytes[1] === LF) return 0;
  for (let index = from; index + 3 < bytes.byteLength; index += 1) {
    if (
      bytes[index] === CR &&
      bytes[index + 1] === LF &&
      bytes[index + 2] === CR &&
      bytes[index + 3] === LF
    ) {
      return index + 2;
    }
  }
  return -1;
}

function* completeHeader(header: Uint8Array, options: SubmissionFixupOptions): Generator<Uint8Array> {
  const fields = fieldsOf(header);
  options.onHeader?.({ values: (name) => fields.get(name.toLowerCase()) ?? [] });
  let added = '';
  if (!fields.has('date')) added += `Date: ${options.date}\r\n`;
  if (!fields.has('message-id')) added += `Message-ID: ${options.messageId}\r\n`;
  if (header.byteLength > 0) yield header;
  if (added === '') return;
  // A header-only message whose last line has no CRLF (possible with BDAT) gets one first.
  const needsLineEnd = header.byteLength > 0 && header[header.byteLength - 1] !== LF;
  yield encoder.encode(needsLineEnd ? `\r\n${added}` : added);
}

/**
 * The fields of a header block by lower-case name, values unfolded (RFC 5322 §2.2.3: a line starting
 * with WSP continues the field above). UTF-8 (RFC 6532) decodes as such; CR and LF never occur inside
 * a multi-byte sequence, so the line split is safe whatever the bytes.
 */
function fieldsOf(header: Uint8Array): Map<string, string[]> {
  const fields = new Map<string, string[]>();
  let current: { readonly name: string; value: string } | null = null;
  const flush = (): void => {
    if (current === null) return;
    const values = fields.get(current.name) ?? [];
    values.push(current.value.trim());
    fields.set(current.name, values);
  };
  for (const line of new TextDecoder().decode(header).split('\r\n')) {
    if ((line[0] === ' ' || line[0] === '\t') && current !== null) {
      current.value += line;
      continue;
    }
    flush();
    const colon = line.indexOf(':');
    current =
      colon <= 0
        ? null
        : { name: line.slice(0, colon).trimEnd().toLowerCase(), value: line.slice(colon + 1) };
  }
  flush();
  return fields;
}

function concat(first: Uint8Array, second: Uint8Array): Uint8Array {
  if (first.byteLength === 0) return second;
  const joined = new Uint8Array(first.byteLength + second.byteLength);
  joined.set(first, 0);
  joined.set(second, first.byteLength);
  return joined;
}
