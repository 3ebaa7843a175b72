import { type Capabilities, serializeCapabilities } from '@smtp/protocol';

export interface ExplainedCapability {
  readonly keyword: string;
  readonly parameters: string;
  readonly description: string;
}

/** What each EHLO keyword means for a sender, with the RFC that defines it. */
const meanings: Readonly<Record<string, string>> = {
  PIPELINING: 'commands can be sent in batches, saving round trips (RFC 2920)',
  SIZE: 'declares the largest message accepted (RFC 1870)',
  '8BITMIME': '8-bit message bodies accepted (RFC 6152)',
  SMTPUTF8: 'UTF-8 addresses and headers accepted (RFC 6531)',
  ENHANCEDSTATUSCODES: 'replies carry x.y.z status codes (RFC 2034, RFC 3463)',
  STARTTLS: 'the connection can be upgraded to TLS (RFC 3207)',
  CHUNKING: 'BDAT: message sent in sized chunks, no dot-stuffing (RFC 3030)',
  BINARYMIME: 'binary bodies with BDAT (RFC 3030)',
  DSN: 'delivery status notifications on request (RFC 3461)',
  REQUIRETLS: 'the message may demand TLS on every hop (RFC 8689)',
  DELIVERBY: 'delivery deadlines (RFC 2852)',
  AUTH: 'SMTP authentication with these SASL mechanisms (RFC 4954)',
  ETRN: 'remote queue start (RFC 1985)',
  VRFY: 'address verification (RFC 5321 §3.5)',
  HELP: 'help text (RFC 5321 §4.1.1.8)',
  XCLIENT: 'Postfix XCLIENT: a trusted proxy may set the client attributes',
  'X-EXPS': 'Microsoft Exchange authentication extension',
  'X-LINK2STATE': 'Microsoft Exchange link state',
  XEXCH50: 'Microsoft Exchange legacy extension',
  CHECKPOINT: 'checkpoint/restart (RFC 1845)',
  MTRK: 'message tracking (RFC 3885)',
  'MT-PRIORITY': 'message priorities (RFC 6710)',
  FUTURERELEASE: 'delayed release (RFC 4865)',
  LIMITS: 'the server announces its limits (RFC 9422)',
};

export function explainCapabilities(capabilities: Capabilities): ExplainedCapability[] {
  return serializeCapabilities(capabilities).map((line) => {
    const space = line.indexOf(' ');
    const keyword = space < 0 ? line : line.slice(0, space);
    const parameters = space < 0 ? '' : line.slice(space + 1);
    let description = meanings[keyword.toUpperCase()] ?? 'extension unknown to smtp';
    if (keyword === 'SIZE') {
      description = capabilities.size
        ? `messages up to ${formatBytes(capabilities.size)} (RFC 1870)`
        : 'no fixed size limit announced (RFC 1870)';
    }
    return { keyword, parameters, description };
  });
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} bytes`;
}
