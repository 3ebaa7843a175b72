import { isIP } from 'node:net';
import { usageError } from '../cli-error.js';

export interface ServerAddress {
  readonly host: string;
  readonly port: number;
}

/**
 * `host`, `host:port`, `[ipv6]:port`, or a bare IPv6 address. `flag` names the option in errors.
 * The default port applies when none is given.
 */
export function parseServerAddress(
  text: string,
  defaultPort: number,
  flag = '--server',
  options: { allowPortZero?: boolean } = {},
): ServerAddress {
  const value = text.trim();
  if (value === '') throw usageError(`${flag} is empty: give host[:port], e.g. ${flag} mail.example.com:587`);
  let host: string;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(value);
  if (bracketed) {
    host = bracketed[1] ?? '';
    portText = bracketed[2];
  } else if (isIP(value) === 6) {
    host = value;
  } else {
    const colon = value.lastIndexOf(':');
    if (colon >= 0 && value.indexOf(':') !== colon) {
      throw usageError(`${flag} '${text}': put an IPv6 address in brackets, e.g. [${value}]:25`);
    }
    host = colon >= 0 ? value.slice(0, colon) : value;
    portText = colon >= 0 ? value.slice(colon + 1) : undefined;
  }
  if (host === '' || /[\s/]/.test(host))
    throw usageError(`${flag} '${text}': the host is not a name or address`);
  const port =
    portText === undefined
      ? defaultPort
      : options.allowPortZero && portText === '0'
        ? 0
        : parsePort(portText, `${flag} '${text}'`);
  return { host, port };
}

export function parsePort(text: string, where: string): number {
  if (!/^\d{1,5}$/.test(text)) throw usageError(`${where}: the port must be a number 1..65535`);
  const port = Number(text);
  if (port < 1 || port > 65535) throw usageError(`${where}: the port must be 1..65535`);
  return port;
}

/** For messages: `host:port`, with brackets around IPv6 addresses. */
export function formatServerAddress(address: ServerAddress): string {
  return isIP(address.host) === 6 ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}
