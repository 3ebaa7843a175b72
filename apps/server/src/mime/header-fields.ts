import { decodeWords } from 'postal-mime';

/**
 * The values of some header fields of a raw message, read from its header section only (no MIME
 * parse): unfolded (RFC 5322 §2.2.3) and with RFC 2047 encoded words decoded. Keys are the
 * lower-cased names asked for; a field that occurs twice gives two values.
 */
export function readHeaderFields(raw: Uint8Array, names: readonly string[]): Map<string, string[]> {
  const wanted = new Set(names.map((name) => name.toLowerCase()));
  const values = new Map<string, string[]>();
  for (const name of wanted) values.set(name, []);
  const section = new TextDecoder('utf-8').decode(raw.subarray(0, headerSectionEnd(raw)));
  // RFC 5322 §2.2.3: a line starting with white space continues the field before it.
  const fields = section.split(/\r?\n(?![ \t])/);
  for (const field of fields) {
    const colon = field.indexOf(':');
    if (colon <= 0) continue;
    const name = field.slice(0, colon).trim().toLowerCase();
    const list = values.get(name);
    if (list === undefined) continue;
    const unfolded = field
      .slice(colon + 1)
      .replace(/\r?\n[ \t]+/g, ' ')
      .trim();
    list.push(decodeWords(unfolded));
  }
  return values;
}

/** Where the header section ends: the first empty line, or the whole message when it has none. */
export function headerSectionEnd(raw: Uint8Array): number {
  for (let index = 0; index < raw.length - 1; index += 1) {
    if (raw[index] !== 0x0a) continue;
    if (raw[index + 1] === 0x0a) return index;
    if (raw[index + 1] === 0x0d && raw[index + 2] === 0x0a) return index;
  }
  return raw.length;
}
