import { encode as encodeQuotedPrintable, wrap as wrapQuotedPrintable } from 'nodemailer/lib/qp';

export type TextTransferEncoding = '7bit' | 'quoted-printable';

export interface EncodedText {
  readonly transferEncoding: TextTransferEncoding;
  /** The body as sent: CRLF line ends, ASCII only. */
  readonly body: Buffer;
}

/** RFC 5322 §2.1.1: a line is at most 998 characters, CRLF excluded. */
const maxLineCharacters = 998;
/** RFC 2045 §6.7 (5): quoted-printable lines are at most 76 characters. */
const quotedPrintableLineCharacters = 76;

/**
 * A text or HTML body. ASCII text with lines of at most 998 characters goes as it is (7bit, RFC 2045
 * §2.7), with only its line ends made CRLF; anything else is quoted-printable (nodemailer's encoder).
 */
export function encodeText(text: string): EncodedText {
  let lineCharacters = 0;
  let hasBareLineEnd = false;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code === 0x0a) {
      if (index === 0 || text.charCodeAt(index - 1) !== 0x0d) hasBareLineEnd = true;
      lineCharacters = 0;
    } else if (code === 0x0d) {
      if (text.charCodeAt(index + 1) !== 0x0a) hasBareLineEnd = true;
    } else if (code === 0 || code > 0x7e || ++lineCharacters > maxLineCharacters) {
      return quotedPrintable(text);
    }
  }
  return {
    transferEncoding: '7bit',
    body: Buffer.from(hasBareLineEnd ? withCrlf(text) : text, 'latin1'),
  };
}

function quotedPrintable(text: string): EncodedText {
  const encoded = wrapQuotedPrintable(encodeQuotedPrintable(withCrlf(text)), quotedPrintableLineCharacters);
  return { transferEncoding: 'quoted-printable', body: Buffer.from(encoded, 'latin1') };
}

function withCrlf(text: string): string {
  return text.replace(/\r\n|\r|\n/g, '\r\n');
}
