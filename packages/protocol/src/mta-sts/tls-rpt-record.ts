// RFC 8460 (SMTP TLS Reporting) §3: the TXT record at `_smtp._tls.<domain>` that says where senders
// report TLS failures, parsed. Sending the reports is not done here.

/** RFC 8460 §3: rua URIs are mailto: or https:. */
const reportUriPattern = /^(?:mailto:[^\s,;]+|https:\/\/[^\s,;]+)$/i;
const fieldPattern = /^([A-Za-z0-9_.-]+)=(.*)$/;

/**
 * Where a domain wants TLS failure reports, from the TXT records at `_smtp._tls.<domain>`, or null
 * when it publishes none: records that do not start with `v=TLSRPTv1` are ignored, and anything but
 * exactly one valid record means none.
 */
export function parseTlsRptRecords(records: readonly string[]): { readonly rua: readonly string[] } | null {
  const candidates = records.filter((record) => /^v=TLSRPTv1[\t ]*(?:;|$)/.test(record));
  if (candidates.length !== 1) return null;
  let rua: string[] | null = null;
  const fields = (candidates[0] as string).split(';').map((field) => field.trim());
  for (const [index, field] of fields.entries()) {
    if (field === '') {
      if (index === fields.length - 1) continue; // the optional trailing ";"
      return null;
    }
    const match = fieldPattern.exec(field);
    if (match === null) return null;
    if (match[1] !== 'rua' || rua !== null) continue;
    rua = (match[2] as string).split(',').map((uri) => uri.trim());
    if (!rua.every((uri) => reportUriPattern.test(uri))) return null;
  }
  return rua === null || rua.length === 0 ? null : { rua };
}
