// RFC 8460 (SMTP TLS Reporting) §3: the TXT record at `_smtp._tls.<domain>` that says where senders
// report TLS failures, parsed. Sending the reports is not done here.

import { parseVersionedRecord } from './versioned-record.js';

/** RFC 8460 §3: rua URIs are mailto: or https:. */
const reportUriPattern = /^(?:mailto:[^\s,;]+|https:\/\/[^\s,;]+)$/i;

/**
 * Where a domain wants TLS failure reports, from the TXT records at `_smtp._tls.<domain>`, or null
 * when it publishes none: records that do not start with `v=TLSRPTv1` are ignored, and anything but
 * exactly one valid record means none.
 */
export function parseTlsRptRecords(records: readonly string[]): { readonly rua: readonly string[] } | null {
  const value = parseVersionedRecord(records, 'TLSRPTv1')?.get('rua');
  if (value === undefined) return null;
  const rua = value.split(',').map((uri) => uri.trim());
  return rua.every((uri) => reportUriPattern.test(uri)) ? { rua } : null;
}
