import { SmtpUsageError } from '../errors.js';
import { formatIpv4, formatIpv6, parseIpv4, parseIpv6 } from './ip-address.js';
import type { ProxyEndpoint, ProxyHeader, ProxyHeaderParseResult } from './proxy-header.js';

/** proxy-protocol.txt §2.1: the longest v1 line, CRLF included ("PROXY UNKNOWN" with IPv6 fields). */
export const maxProxyV1Bytes = 107;

const LF = 0x0a;
const CR = 0x0d;
const portPattern = /^(0|[1-9][0-9]{0,4})$/;

/** §2.1: `PROXY TCP4|TCP6 <source> <destination> <source port> <destination port>\r\n` or `PROXY UNKNOWN…\r\n`. */
export function parseProxyHeaderV1(bytes: Uint8Array): ProxyHeaderParseResult {
  const lineFeed = bytes.subarray(0, maxProxyV1Bytes).indexOf(LF);
  if (lineFeed < 0) {
    if (bytes.length >= maxProxyV1Bytes) {
      return invalid(`PROXY v1 line longer than ${maxProxyV1Bytes} bytes`);
    }
    // The CR of CRLF must be the only CR: anything else can be refused before the line ends.
    const carriageReturn = bytes.indexOf(CR);
    if (carriageReturn >= 0 && carriageReturn < bytes.length - 1)
      return invalid('PROXY v1 line has a bare CR');
    return { status: 'incomplete' };
  }
  // §2.1: "The receiver must not tolerate a single CR or LF character to end the line".
  if (bytes[lineFeed - 1] !== CR) return invalid('PROXY v1 line ends with a bare LF');
  const line = bytes.subarray(0, lineFeed - 1);
  const consumedBytes = lineFeed + 1;
  // §2.1: for UNKNOWN "the receiver must ignore anything presented before the CRLF".
  if (startsWithUnknown(line)) {
    return { status: 'ok', header: { version: 1, command: 'PROXY', protocol: 'UNKNOWN' }, consumedBytes };
  }
  if (line.indexOf(CR) >= 0) return invalid('PROXY v1 line has a bare CR');
  for (let index = 0; index < line.length; index += 1) {
    const byte = line[index] as number;
    if (byte < 0x20 || byte > 0x7e)
      return invalid('PROXY v1 line contains a byte that is not printable US-ASCII');
  }
  const fields = String.fromCharCode(...line).split(' ');
  const protocol = fields[1];
  if (protocol !== 'TCP4' && protocol !== 'TCP6')
    return invalid(`PROXY v1 protocol ${protocol ?? ''} is not TCP4, TCP6 or UNKNOWN`);
  if (fields.length !== 6)
    return invalid('PROXY v1 line needs exactly two addresses and two ports, one space apart');
  const parse = protocol === 'TCP4' ? parseIpv4 : parseIpv6;
  const format = protocol === 'TCP4' ? formatIpv4 : formatIpv6;
  const sourceAddress = parse(fields[2] as string);
  const destinationAddress = parse(fields[3] as string);
  if (sourceAddress === null || destinationAddress === null) {
    return invalid(
      `PROXY v1 ${protocol} line has an invalid ${sourceAddress === null ? 'source' : 'destination'} address`,
    );
  }
  const sourcePort = parsePort(fields[4] as string);
  const destinationPort = parsePort(fields[5] as string);
  if (typeof sourcePort === 'string') return invalid(`PROXY v1 source port ${sourcePort}`);
  if (typeof destinationPort === 'string') return invalid(`PROXY v1 destination port ${destinationPort}`);
  const header: ProxyHeader = {
    version: 1,
    command: 'PROXY',
    protocol,
    source: { address: format(sourceAddress), port: sourcePort },
    destination: { address: format(destinationAddress), port: destinationPort },
  };
  return { status: 'ok', header, consumedBytes };
}

const unknownPrefix = 'PROXY UNKNOWN';

function startsWithUnknown(line: Uint8Array): boolean {
  if (line.length < unknownPrefix.length) return false;
  for (let index = 0; index < unknownPrefix.length; index += 1) {
    if (line[index] !== unknownPrefix.charCodeAt(index)) return false;
  }
  return line.length === unknownPrefix.length || line[unknownPrefix.length] === 0x20;
}

/** A port number, or why the text is not one. */
function parsePort(text: string): number | string {
  if (!portPattern.test(text)) return 'is not a decimal number without leading zeros';
  const port = Number(text);
  return port > 65535 ? 'out of range' : port;
}

function invalid(reason: string): ProxyHeaderParseResult {
  return { status: 'invalid', reason };
}

/**
 * The v1 line for a header. TCP4/TCP6 with both endpoints give the full line; UNKNOWN and LOCAL (which
 * v1 cannot say otherwise) give `PROXY UNKNOWN\r\n`. UDP and UNIX have no v1 form: SmtpUsageError.
 */
export function serializeProxyHeaderV1(header: ProxyHeader): Uint8Array {
  if (header.command === 'LOCAL' || header.protocol === 'UNKNOWN') return ascii('PROXY UNKNOWN\r\n');
  const { protocol, source, destination } = header;
  if (protocol !== 'TCP4' && protocol !== 'TCP6') {
    throw new SmtpUsageError(`PROXY protocol v1 cannot carry ${protocol}; use v2`);
  }
  if (source === undefined || destination === undefined) {
    throw new SmtpUsageError(`PROXY ${protocol} header needs a source and a destination`);
  }
  const parse = protocol === 'TCP4' ? parseIpv4 : parseIpv6;
  const format = protocol === 'TCP4' ? formatIpv4 : formatIpv6;
  const fields = [source, destination].map((endpoint: ProxyEndpoint) => {
    const address = parse(endpoint.address);
    if (address === null)
      throw new SmtpUsageError(
        `Not an ${protocol === 'TCP4' ? 'IPv4' : 'IPv6'} address: ${endpoint.address}`,
      );
    checkPort(endpoint.port);
    return format(address);
  });
  return ascii(`PROXY ${protocol} ${fields[0]} ${fields[1]} ${source.port} ${destination.port}\r\n`);
}

export function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new SmtpUsageError(`Port out of range: ${port}`);
}

function ascii(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let index = 0; index < text.length; index += 1) bytes[index] = text.charCodeAt(index);
  return bytes;
}
