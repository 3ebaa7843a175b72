// Postfix XCLIENT (https://www.postfix.org/XCLIENT_README.html): a trusted proxy tells the server who
// the real client is. parseCommand has already uppercased the names and xtext-decoded the values.

import { isIpv4Address, isIpv6Address } from '../address/ip-literal.js';
import { rejection } from '../command/rejection.js';
import type { ParseResult } from '../parse-result.js';

/** The client as the proxy describes it. Absent: not sent, or [UNAVAILABLE]/[TEMPUNAVAIL]. */
export interface XclientPeer {
  readonly address?: string; // "192.0.2.1" or "2001:db8::1" (the IPV6: prefix removed)
  readonly port?: number;
  readonly name?: string; // reverse DNS name of the client
  readonly helo?: string;
  readonly login?: string; // SASL login name
  readonly protocol?: 'SMTP' | 'ESMTP';
  readonly destinationAddress?: string;
  readonly destinationPort?: number;
}

type Writable<T> = { -readonly [K in keyof T]: T[K] };

export const xclientAttributeNames = [
  'NAME',
  'ADDR',
  'PORT',
  'PROTO',
  'HELO',
  'LOGIN',
  'DESTADDR',
  'DESTPORT',
] as const;

/** XCLIENT_README: NAME and HELO values are at most 255 characters. */
const maxNameLength = 255;
const controlCharacter = /[\u0000-\u001f\u007f]/;

function isUnavailable(value: string): boolean {
  return value === '[UNAVAILABLE]' || value === '[TEMPUNAVAIL]';
}

/** An IPv4 address, or an IPv6 address written with the `IPV6:` prefix (RFC 4291 text forms). */
function parseAddress(value: string): string | null {
  if (value.length > 5 && value.slice(0, 5).toUpperCase() === 'IPV6:') {
    const address = value.slice(5);
    return isIpv6Address(address, true) ? address : null;
  }
  return isIpv4Address(value) ? value : null;
}

function parsePort(value: string): number | null {
  if (!/^[0-9]{1,5}$/.test(value)) return null;
  const port = Number(value);
  return port <= 65535 ? port : null;
}

function parseText(value: string): string | null {
  return value.length === 0 || value.length > maxNameLength || controlCharacter.test(value) ? null : value;
}

/** Maps XCLIENT attributes to a peer description. Unknown names or bad values → 501 5.5.4. */
export function parseXclientAttributes(attributes: ReadonlyMap<string, string>): ParseResult<XclientPeer> {
  const peer: Writable<XclientPeer> = {};
  for (const [name, value] of attributes) {
    if (!(xclientAttributeNames as readonly string[]).includes(name))
      return rejection('syntaxErrorInParameters');
    if (isUnavailable(value)) continue;
    let valid = true;
    switch (name) {
      case 'ADDR':
      case 'DESTADDR': {
        const address = parseAddress(value);
        if (address === null) valid = false;
        else if (name === 'ADDR') peer.address = address;
        else peer.destinationAddress = address;
        break;
      }
      case 'PORT':
      case 'DESTPORT': {
        const port = parsePort(value);
        if (port === null) valid = false;
        else if (name === 'PORT') peer.port = port;
        else peer.destinationPort = port;
        break;
      }
      case 'PROTO': {
        const protocol = value.toUpperCase();
        if (protocol === 'SMTP' || protocol === 'ESMTP') peer.protocol = protocol;
        else valid = false;
        break;
      }
      default: {
        const text = parseText(value);
        if (text === null) valid = false;
        else if (name === 'NAME') peer.name = text;
        else if (name === 'HELO') peer.helo = text;
        else peer.login = text;
      }
    }
    if (!valid) return rejection('syntaxErrorInParameters');
  }
  return { ok: true, value: peer };
}
