import type { ExplainedCapability } from './explain-capabilities.js';

/** How the EHLO reply after STARTTLS differs from the one before (RFC 3207 §4.2: the client forgets the first). */
export interface CapabilityChanges {
  /** EHLO lines only after TLS, e.g. `AUTH PLAIN LOGIN`: servers often keep AUTH back until then. */
  readonly added: readonly string[];
  /** EHLO lines only before TLS, e.g. `STARTTLS` itself. */
  readonly removed: readonly string[];
  /** The same keyword with other parameters, e.g. SIZE or the AUTH mechanisms. */
  readonly changed: readonly { readonly keyword: string; readonly before: string; readonly after: string }[];
}

export function compareCapabilities(
  before: readonly ExplainedCapability[],
  after: readonly ExplainedCapability[],
): CapabilityChanges {
  const byKeyword = (list: readonly ExplainedCapability[]) =>
    new Map(list.map((item) => [item.keyword.toUpperCase(), item]));
  const beforeByKeyword = byKeyword(before);
  const afterByKeyword = byKeyword(after);
  const line = (item: ExplainedCapability) =>
    `${item.keyword}${item.parameters ? ` ${item.parameters}` : ''}`;
  return {
    added: after.filter((item) => !beforeByKeyword.has(item.keyword.toUpperCase())).map(line),
    removed: before.filter((item) => !afterByKeyword.has(item.keyword.toUpperCase())).map(line),
    changed: after.flatMap((item) => {
      const earlier = beforeByKeyword.get(item.keyword.toUpperCase());
      return earlier !== undefined && earlier.parameters !== item.parameters
        ? [{ keyword: item.keyword, before: line(earlier), after: line(item) }]
        : [];
    }),
  };
}
