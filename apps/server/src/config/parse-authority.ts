import { isIP } from 'node:net';

/** A Host header value or config entry split into name and port (no port → null). */
export interface Authority {
  readonly name: string;
  readonly port: number | null;
}

const hostNamePattern = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;

/** "Example.com:8025" → {example.com, 8025}; "[::1]" → {::1, null}; anything else → null. */
export function parseAuthority(text: string): Authority | null {
  const trimmed = text.trim().toLowerCase();
  if (isIP(trimmed) === 6) return { name: normalizeHostName(trimmed), port: null }; // "::1" in a config file
  let name: string;
  let portText: string | undefined;
  if (trimmed.startsWith('[')) {
    const close = trimmed.indexOf(']');
    if (close < 0) return null;
    name = trimmed.slice(1, close);
    const rest = trimmed.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) return null;
    portText = rest === '' ? undefined : rest.slice(1);
    if (isIP(name) !== 6) return null;
  } else {
    const colon = trimmed.lastIndexOf(':');
    name = colon < 0 ? trimmed : trimmed.slice(0, colon);
    portText = colon < 0 ? undefined : trimmed.slice(colon + 1);
    name = name.endsWith('.') ? name.slice(0, -1) : name; // "localhost." is localhost
    if (isIP(name) !== 4 && !hostNamePattern.test(name)) return null;
  }
  if (portText === undefined) return { name: normalizeHostName(name), port: null };
  if (!/^\d{1,5}$/.test(portText)) return null;
  const port = Number(portText);
  return port > 65_535 ? null : { name: normalizeHostName(name), port };
}

/** Lower case, no brackets, IPv4-mapped IPv6 (::ffff:192.0.2.1, a dual-stack socket's view) as IPv4. */
export function normalizeHostName(name: string): string {
  const bare = name.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return bare.startsWith('::ffff:') && isIP(bare.slice(7)) === 4 ? bare.slice(7) : bare;
}
