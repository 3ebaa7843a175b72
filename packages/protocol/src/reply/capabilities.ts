import type { CapabilityCodec } from '../extension/esmtp-extension.js';
import { esmtpExtensions, type KnownCapabilities } from '../extension/esmtp-extensions.js';
import type { Reply } from './reply.js';

/**
 * What a server offered in its EHLO reply (RFC 5321 §4.1.1.1): one field per extension of the extension
 * table (esmtpExtensions: a flag, or the keyword's value, null or [] when not offered), and the rest.
 */
export type Capabilities = KnownCapabilities & {
  /** Every other keyword, uppercased, mapped to its parameters as sent ("" when none). */
  readonly unknown: ReadonlyMap<string, string>;
};

type Entry = readonly [name: string, keyword: string, codec: CapabilityCodec<unknown>];

/** The table as [field, keyword, codec], in EHLO order, and by keyword. */
const entries: readonly Entry[] = Object.entries(esmtpExtensions).map(
  ([name, extension]) => [name, extension.keyword, extension.capability as CapabilityCodec<unknown>] as const,
);
const byKeyword = new Map(entries.map((entry) => [entry[1], entry]));

/** `AUTH=LOGIN`: a keyword whose codec takes a parameter riding on it (the pre-RFC 4954 AUTH form). */
function legacyEntry(keyword: string): Entry | undefined {
  const equals = keyword.indexOf('=');
  if (equals < 0) return undefined;
  const entry = byKeyword.get(keyword.slice(0, equals));
  return entry?.[2].takesParameterInKeyword === true ? entry : undefined;
}

/** A server that offers nothing: what HELO gives. */
export const emptyCapabilities: Capabilities = Object.freeze({
  ...(Object.fromEntries(entries.map(([name, , codec]) => [name, codec.absent])) as KnownCapabilities),
  unknown: new Map<string, string>(),
});

/**
 * Reads the extensions from an EHLO reply. The first line (`<domain> <greeting>`) is skipped; each
 * other line is `keyword *(SP param)` (RFC 5321 §4.1.1.1), keywords compared without regard to case.
 * Also understands the pre-RFC 4954 `AUTH=LOGIN PLAIN` form some servers still send beside `AUTH`.
 */
export function parseCapabilities(ehloReply: Reply): Capabilities {
  const capabilities: Record<string, unknown> = { ...emptyCapabilities };
  const unknown = new Map<string, string>();
  const { lines } = ehloReply;
  for (let index = 1; index < lines.length; index += 1) {
    const line = (lines[index] as string).trim();
    if (line === '') continue;
    const space = line.indexOf(' ');
    const keyword = (space < 0 ? line : line.slice(0, space)).toUpperCase();
    const parameters = space < 0 ? '' : line.slice(space + 1).trim();
    const entry = byKeyword.get(keyword) ?? legacyEntry(keyword);
    if (entry !== undefined) {
      const [name, , codec] = entry;
      capabilities[name] = codec.parse(parameters, keyword, capabilities[name]);
    } else if (!unknown.has(keyword)) {
      unknown.set(keyword, parameters);
    }
  }
  capabilities.unknown = unknown;
  return capabilities as Capabilities;
}

/**
 * The keyword lines of an EHLO reply for these capabilities, without the greeting line, e.g.
 * `['PIPELINING', 'SIZE 10485760', 'AUTH PLAIN LOGIN']`. `parseCapabilities` reads them back.
 */
export function serializeCapabilities(capabilities: Capabilities): string[] {
  const lines: string[] = [];
  const values = capabilities as unknown as Readonly<Record<string, unknown>>;
  for (const [name, keyword, codec] of entries) {
    const parameters = codec.serialize(values[name]);
    if (parameters !== null) lines.push(parameters === '' ? keyword : `${keyword} ${parameters}`);
  }
  for (const [keyword, parameters] of capabilities.unknown) {
    lines.push(parameters === '' ? keyword : `${keyword} ${parameters}`);
  }
  return lines;
}
