import { encodeWords, foldLines } from 'nodemailer/lib/mime-funcs';

/** RFC 5322 §2.1.1: lines SHOULD stay within 78 characters; folded at whitespace past 76, as nodemailer does. */
const foldAtCharacters = 76;

/** Printable ASCII (and tab) that does not look like an RFC 2047 encoded word: written as it is. */
const plainValue = /^[\t\x20-\x7e]*$/;

/** `Name: value` folded (RFC 5322 §2.2.3) when longer than a line, without the final CRLF. */
export function headerField(name: string, value: string): string {
  const field = `${name}: ${value}`;
  return field.length <= foldAtCharacters ? field : foldLines(field, foldAtCharacters);
}

/** An unstructured value (Subject, custom fields): RFC 2047 encoded words where it is not plain ASCII. */
export function unstructuredValue(value: string): string {
  if (plainValue.test(value) && !value.includes('=?')) return value;
  // 52: encoded words short enough to fold inside 76 characters.
  return encodeWords(value, 'Q', 52);
}
