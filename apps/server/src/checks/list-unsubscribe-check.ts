import type { MessageHeader } from '../mime/parsed-message.js';
import type { CheckFinding } from './check-finding.js';

/** One URI of a List-Unsubscribe field. */
export interface UnsubscribeUri {
  readonly uri: string;
  readonly scheme: string;
}

export interface ListUnsubscribeReport {
  /** The List-Unsubscribe value (the first, when there are several); null when absent. */
  readonly header: string | null;
  /** The List-Unsubscribe-Post value; null when absent. */
  readonly postHeader: string | null;
  readonly uris: readonly UnsubscribeUri[];
  /** RFC 8058 one-click: a valid List-Unsubscribe-Post with an https URI (DKIM coverage aside). */
  readonly isOneClick: boolean;
  /**
   * Whether some DKIM-Signature's h= covers List-Unsubscribe (and List-Unsubscribe-Post when
   * present); null when the message has no DKIM-Signature. The signature itself is not verified.
   */
  readonly isDkimCovered: boolean | null;
  readonly findings: readonly CheckFinding[];
}

/**
 * Checks List-Unsubscribe (RFC 2369 §3.2) and one-click unsubscription (RFC 8058) from a message's
 * header fields (unfolded, as parsed). Pure.
 */
export function checkListUnsubscribe(headers: readonly MessageHeader[]): ListUnsubscribeReport {
  const findings: CheckFinding[] = [];
  const error = (code: string, message: string) => findings.push({ level: 'error', code, message });
  const warning = (code: string, message: string) => findings.push({ level: 'warning', code, message });
  const valuesOf = (name: string) =>
    headers.filter((header) => header.name.toLowerCase() === name).map((header) => header.value);

  const fields = valuesOf('list-unsubscribe');
  const postFields = valuesOf('list-unsubscribe-post');
  const header = fields[0] ?? null;
  const postHeader = postFields[0] ?? null;
  if (fields.length > 1)
    error('repeated', 'List-Unsubscribe appears more than once; receivers read only one');
  if (postFields.length > 1) error('post-repeated', 'List-Unsubscribe-Post appears more than once');

  const uris = header === null ? [] : parseUris(header, error);
  if (header === null) {
    if (postHeader !== null)
      error('post-without-header', 'List-Unsubscribe-Post without List-Unsubscribe (RFC 8058 §3.1)');
    else warning('missing', 'No List-Unsubscribe header: bulk mail should have one (RFC 2369)');
  } else if (uris.length === 0 && findings.every((finding) => finding.code !== 'not-bracketed')) {
    error('empty', 'List-Unsubscribe holds no URI');
  }
  for (const { uri, scheme } of uris) checkUri(uri, scheme, error, warning);

  const httpsUris = uris.filter((uri) => uri.scheme === 'https');
  let isOneClick = false;
  if (postHeader !== null && header !== null) {
    // RFC 8058 §3.1: the field holds exactly the key/value pair "List-Unsubscribe=One-Click".
    if (postHeader.trim() !== 'List-Unsubscribe=One-Click')
      error(
        'post-value',
        `List-Unsubscribe-Post must be "List-Unsubscribe=One-Click", not "${postHeader.trim()}"`,
      );
    if (httpsUris.length === 0)
      error(
        'post-without-https',
        'List-Unsubscribe-Post needs an https URI in List-Unsubscribe (RFC 8058 §3.1)',
      );
    isOneClick = postHeader.trim() === 'List-Unsubscribe=One-Click' && httpsUris.length > 0;
  } else if (httpsUris.length > 0) {
    warning(
      'no-one-click',
      'An https URI without List-Unsubscribe-Post: one-click unsubscribe (RFC 8058) is not offered',
    );
  }
  const withScheme = uris.filter((uri) => uri.scheme !== '');
  if (withScheme.length > 0 && !withScheme.some((uri) => uri.scheme === 'https' || uri.scheme === 'mailto'))
    warning('no-https-or-mailto', 'No https: or mailto: URI: mailbox providers act on these only');

  const signatures = valuesOf('dkim-signature');
  let isDkimCovered: boolean | null = null;
  if (signatures.length > 0 && header !== null) {
    const needed = postHeader === null ? ['list-unsubscribe'] : ['list-unsubscribe', 'list-unsubscribe-post'];
    isDkimCovered = signatures.some((signature) => {
      const signed = signedHeaderNames(signature);
      return needed.every((name) => signed.includes(name));
    });
    if (!isDkimCovered)
      error(
        'not-signed',
        `No DKIM-Signature covers ${needed.join(' and ')} (h=): receivers ignore unsigned unsubscribe links (RFC 8058 §4)`,
      );
  } else if (signatures.length === 0 && postHeader !== null && header !== null) {
    error(
      'one-click-unsigned',
      'One-click unsubscribe needs a DKIM signature covering both fields (RFC 8058 §4)',
    );
  }
  return { header, postHeader, uris, isOneClick, isDkimCovered, findings };
}

/**
 * RFC 2369 §2: a list of URIs each in angle brackets, separated by commas; white space and
 * comments (parentheses) may surround them. Anything else outside brackets is an error.
 */
function parseUris(value: string, error: (code: string, message: string) => void): UnsubscribeUri[] {
  const uris: UnsubscribeUri[] = [];
  let outside = '';
  let index = 0;
  while (index < value.length) {
    const character = value[index] as string;
    if (character === '<') {
      const end = value.indexOf('>', index);
      if (end === -1) {
        error('unclosed', 'A "<" is never closed by ">"');
        break;
      }
      // RFC 2369 §2: white space inside the brackets is to be ignored (folded long URIs).
      const uri = value.slice(index + 1, end).replace(/\s+/g, '');
      const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(uri)?.[1]?.toLowerCase() ?? '';
      uris.push({ uri, scheme });
      index = end + 1;
      continue;
    }
    if (character === '(') {
      const end = value.indexOf(')', index);
      index = end === -1 ? value.length : end + 1;
      continue;
    }
    outside += character;
    index += 1;
  }
  const stray = outside.replace(/[\s,]/g, '');
  if (stray !== '')
    error('not-bracketed', `Text outside angle brackets: "${stray.slice(0, 80)}" (RFC 2369 §2)`);
  return uris;
}

function checkUri(
  uri: string,
  scheme: string,
  error: (code: string, message: string) => void,
  warning: (code: string, message: string) => void,
): void {
  if (scheme === '') {
    error('no-scheme', `"${uri}" is not a URI (no scheme)`);
    return;
  }
  if (scheme === 'mailto') {
    // RFC 6068: mailto:addr[,addr]?hfields
    const address = decodeURIComponentSafe(uri.slice('mailto:'.length).split('?')[0] ?? '');
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(address)) error('mailto-address', `${uri}: no valid address`);
    return;
  }
  if (scheme === 'https' || scheme === 'http') {
    let host = '';
    try {
      host = new URL(uri).hostname;
    } catch {
      error('bad-url', `${uri} is not a valid URL`);
      return;
    }
    if (host === '') error('bad-url', `${uri} has no host`);
    if (scheme === 'http') warning('plain-http', `${uri}: use https (one-click needs it; RFC 8058 §3.1)`);
    return;
  }
  warning('other-scheme', `${uri}: mailbox providers act on mailto: and https: only`);
}

/** The lower-cased header names of a DKIM-Signature's h= tag (RFC 6376 §3.5). */
function signedHeaderNames(signature: string): string[] {
  const tag = signature
    .split(';')
    .map((part) => part.trim())
    .find((part) => /^h\s*=/i.test(part));
  if (tag === undefined) return [];
  return tag
    .replace(/^h\s*=/i, '')
    .split(':')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '');
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
