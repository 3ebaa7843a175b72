// RFC 8461 §3.1 (MTA-STS) and RFC 8460 §3 (TLS-RPT) publish TXT records of one grammar: `v=<version>`,
// then `key=value` fields separated by ";" and optional blanks, with an optional final ";".

const fieldPattern = /^([A-Za-z0-9_.-]+)=(.*)$/;

/**
 * The fields of the one record among `records` that starts with `v=<version>`, or null when there is
 * none or more than one (both RFCs: the domain then publishes nothing), or when a field is malformed
 * or its value fails `isValue`. Of a repeated key the first counts.
 */
export function parseVersionedRecord(
  records: readonly string[],
  version: string,
  isValue: (value: string) => boolean = () => true,
): ReadonlyMap<string, string> | null {
  // The version is a literal of letters and digits (STSv1, TLSRPTv1): no escaping needed.
  const start = new RegExp(`^v=${version}[\\t ]*(?:;|$)`);
  const candidates = records.filter((record) => start.test(record));
  if (candidates.length !== 1) return null;
  const fields = new Map<string, string>();
  const parts = (candidates[0] as string).split(';').map((part) => part.trim());
  for (const [index, part] of parts.entries()) {
    if (part === '') {
      if (index === parts.length - 1) continue; // the optional final ";"
      return null;
    }
    const match = fieldPattern.exec(part);
    if (match === null || !isValue(match[2] as string)) return null;
    if (!fields.has(match[1] as string)) fields.set(match[1] as string, match[2] as string);
  }
  return fields;
}
