import { SmtpUsageError } from '../errors.js';
import { crc32c } from './crc32c.js';
import { formatIpv4, formatIpv6, parseIpv4, parseIpv6 } from './ip-address.js';
import type { ProxyEndpoint, ProxyHeader, ProxyHeaderParseResult, ProxyProtocol } from './proxy-header.js';
import { checkPort } from './proxy-header-v1.js';

/** proxy-protocol.txt §2.2: the 12-byte signature that starts every v2 header. */
export const proxyV2Signature = new Uint8Array([
  0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
]);

/** §2.2.3: the TLV type whose value is the CRC-32C of the whole header. */
export const proxyTlvCrc32c = 0x03;

const fixedBytes = 16;
const unixPathBytes = 108;

/** §2.2: family (high nibble) and transport (low nibble) of the 14th byte, for the protocols we name. */
const protocolBytes = {
  TCP4: 0x11,
  UDP4: 0x12,
  TCP6: 0x21,
  UDP6: 0x22,
  UNIX: 0x31,
  UNIX_DGRAM: 0x32,
  UNKNOWN: 0x00,
} as const satisfies Record<ProxyProtocol, number>;

/** Bytes of the address block for each address family (§2.2: 0 unspec, 1 inet, 2 inet6, 3 unix). */
const addressBlockBytes = [0, 12, 36, 2 * unixPathBytes] as const;

const utf8Decoder = new TextDecoder('utf-8');
const utf8Encoder = new TextEncoder();

/** §2.2: signature, version/command, family/transport, length, addresses, TLVs. */
export function parseProxyHeaderV2(bytes: Uint8Array): ProxyHeaderParseResult {
  if (bytes.length < fixedBytes) return { status: 'incomplete' };
  const versionCommand = bytes[12] as number;
  if (versionCommand >> 4 !== 2) return invalid(`PROXY v2 header has version ${versionCommand >> 4}, not 2`);
  const commandBits = versionCommand & 0x0f;
  if (commandBits > 1) return invalid(`PROXY v2 header has unknown command ${commandBits}`);
  const familyTransport = bytes[13] as number;
  const family = familyTransport >> 4;
  const transport = familyTransport & 0x0f;
  if (family > 3) return invalid(`PROXY v2 header has unknown address family ${family}`);
  if (transport > 2) return invalid(`PROXY v2 header has unknown transport protocol ${transport}`);
  const blockBytes = ((bytes[14] as number) << 8) | (bytes[15] as number);
  const consumedBytes = fixedBytes + blockBytes;
  // §2.2: "The receiver must not start to parse an address before the whole address block is received."
  if (bytes.length < consumedBytes) return { status: 'incomplete' };
  const header = bytes.subarray(0, consumedBytes);
  const block = header.subarray(fixedBytes);
  const addressBytes = addressBlockBytes[family as 0 | 1 | 2 | 3];
  const isKnown = family !== 0 && transport !== 0;

  if (commandBits === 0) {
    // LOCAL: "the receiver must accept this connection as valid ... and discard the protocol block".
    // TLVs are still read when we can tell where they start.
    const tlvs =
      block.length >= addressBytes && (isKnown || family === 0) ? parseTlvs(header, addressBytes) : new Map();
    if (typeof tlvs === 'string') return invalid(tlvs);
    return ok({ version: 2, command: 'LOCAL', protocol: 'UNKNOWN', ...withTlvs(tlvs) }, consumedBytes);
  }
  if (!isKnown) {
    // AF_UNSPEC or an unspecified transport: addresses are to be ignored. With AF_UNSPEC there are
    // none, so what follows are TLVs; otherwise their layout is unknown and they are skipped too.
    const tlvs = family === 0 ? parseTlvs(header, 0) : new Map();
    if (typeof tlvs === 'string') return invalid(tlvs);
    return ok({ version: 2, command: 'PROXY', protocol: 'UNKNOWN', ...withTlvs(tlvs) }, consumedBytes);
  }
  if (block.length < addressBytes) {
    return invalid(
      `PROXY v2 address block has ${block.length} bytes, the address family needs ${addressBytes}`,
    );
  }
  const protocol = protocolNames[familyTransport] as ProxyProtocol;
  const tlvs = parseTlvs(header, addressBytes);
  if (typeof tlvs === 'string') return invalid(tlvs);
  const [source, destination] = readEndpoints(block, family);
  return ok(
    { version: 2, command: 'PROXY', protocol, source, destination, ...withTlvs(tlvs) },
    consumedBytes,
  );
}

const protocolNames: Record<number, ProxyProtocol> = Object.fromEntries(
  Object.entries(protocolBytes).map(([name, byte]) => [byte, name as ProxyProtocol]),
);

function readEndpoints(block: Uint8Array, family: number): [ProxyEndpoint, ProxyEndpoint] {
  if (family === 3) {
    return [
      { address: readUnixPath(block.subarray(0, unixPathBytes)), port: 0 },
      { address: readUnixPath(block.subarray(unixPathBytes, 2 * unixPathBytes)), port: 0 },
    ];
  }
  const size = family === 1 ? 4 : 16;
  const format = family === 1 ? formatIpv4 : formatIpv6;
  const portOffset = 2 * size;
  return [
    { address: format(block.subarray(0, size)), port: readUint16(block, portOffset) },
    { address: format(block.subarray(size, portOffset)), port: readUint16(block, portOffset + 2) },
  ];
}

/** A sun_path: bytes up to the first NUL. */
function readUnixPath(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return utf8Decoder.decode(end < 0 ? bytes : bytes.subarray(0, end));
}

function readUint16(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] as number) << 8) | (bytes[offset + 1] as number);
}

/**
 * §2.2: `type, length (2 bytes), value` vectors after the addresses, to the end of the header. Values
 * are copies. A CRC-32C TLV (§2.2.3) is checked over the whole header. Returns the reason on error.
 */
function parseTlvs(header: Uint8Array, addressBytes: number): Map<number, Uint8Array> | string {
  const tlvs = new Map<number, Uint8Array>();
  let offset = fixedBytes + addressBytes;
  let checksumOffset = -1;
  while (offset < header.length) {
    if (header.length - offset < 3) return 'PROXY v2 header ends inside a TLV';
    const type = header[offset] as number;
    const length = readUint16(header, offset + 1);
    const valueOffset = offset + 3;
    if (valueOffset + length > header.length)
      return `PROXY v2 TLV 0x${type.toString(16)} runs past the end of the header`;
    if (!tlvs.has(type)) {
      tlvs.set(type, header.slice(valueOffset, valueOffset + length));
      if (type === proxyTlvCrc32c) checksumOffset = valueOffset;
    }
    offset = valueOffset + length;
  }
  if (checksumOffset >= 0) {
    if (tlvs.get(proxyTlvCrc32c)?.length !== 4) return 'PROXY v2 CRC32C TLV is not 4 bytes long';
    const expected = readUint32(header, checksumOffset);
    const zeroed = header.slice();
    zeroed.fill(0, checksumOffset, checksumOffset + 4);
    // §2.2.3: a mismatch means "the receiver MUST treat the TCP connection ... as invalid".
    if (crc32c(zeroed) !== expected) return 'PROXY v2 header fails its CRC32C checksum';
  }
  return tlvs;
}

function readUint32(bytes: Uint8Array, offset: number): number {
  return ((readUint16(bytes, offset) << 16) | readUint16(bytes, offset + 2)) >>> 0;
}

function withTlvs(tlvs: Map<number, Uint8Array>): { tlvs?: ReadonlyMap<number, Uint8Array> } {
  return tlvs.size > 0 ? { tlvs } : {};
}

function ok(header: ProxyHeader, consumedBytes: number): ProxyHeaderParseResult {
  return { status: 'ok', header, consumedBytes };
}

function invalid(reason: string): ProxyHeaderParseResult {
  return { status: 'invalid', reason };
}

export interface SerializeProxyHeaderV2Options {
  /** Append a CRC-32C TLV over the header (§2.2.3). Default false. */
  readonly checksum?: boolean;
}

/**
 * The v2 header for `header` (its `version` is ignored). LOCAL and UNKNOWN carry no addresses
 * (AF_UNSPEC); the others need both endpoints. Bad addresses, ports or TLVs throw SmtpUsageError.
 */
export function serializeProxyHeaderV2(
  header: ProxyHeader,
  options: SerializeProxyHeaderV2Options = {},
): Uint8Array {
  const isLocal = header.command === 'LOCAL';
  const protocol: ProxyProtocol = isLocal ? 'UNKNOWN' : header.protocol;
  if (!Object.hasOwn(protocolBytes, protocol)) throw new SmtpUsageError(`Unknown PROXY protocol ${protocol}`);
  const familyTransport = protocolBytes[protocol];
  const addresses = protocol === 'UNKNOWN' ? new Uint8Array(0) : writeEndpoints(header, protocol);
  const tlvEntries = [...(header.tlvs ?? new Map<number, Uint8Array>())];
  if (options.checksum === true) {
    if (header.tlvs?.has(proxyTlvCrc32c))
      throw new SmtpUsageError('Pass either a CRC32C TLV or checksum: true');
    tlvEntries.push([proxyTlvCrc32c, new Uint8Array(4)]);
  }
  let tlvBytes = 0;
  for (const [type, value] of tlvEntries) {
    if (!Number.isInteger(type) || type < 0 || type > 255)
      throw new SmtpUsageError(`TLV type out of range: ${type}`);
    if (value.length > 0xffff)
      throw new SmtpUsageError(`TLV 0x${type.toString(16)} is longer than 65535 bytes`);
    tlvBytes += 3 + value.length;
  }
  const blockBytes = addresses.length + tlvBytes;
  if (blockBytes > 0xffff) throw new SmtpUsageError('PROXY v2 header is longer than 65551 bytes');
  const output = new Uint8Array(fixedBytes + blockBytes);
  output.set(proxyV2Signature, 0);
  output[12] = 0x20 | (isLocal ? 0 : 1);
  output[13] = familyTransport;
  output[14] = blockBytes >> 8;
  output[15] = blockBytes & 0xff;
  output.set(addresses, fixedBytes);
  let offset = fixedBytes + addresses.length;
  let checksumOffset = -1;
  for (const [type, value] of tlvEntries) {
    output[offset] = type;
    output[offset + 1] = value.length >> 8;
    output[offset + 2] = value.length & 0xff;
    output.set(value, offset + 3);
    if (type === proxyTlvCrc32c && options.checksum === true) checksumOffset = offset + 3;
    offset += 3 + value.length;
  }
  if (checksumOffset >= 0) {
    const checksum = crc32c(output);
    output[checksumOffset] = checksum >>> 24;
    output[checksumOffset + 1] = (checksum >>> 16) & 0xff;
    output[checksumOffset + 2] = (checksum >>> 8) & 0xff;
    output[checksumOffset + 3] = checksum & 0xff;
  }
  return output;
}

function writeEndpoints(header: ProxyHeader, protocol: Exclude<ProxyProtocol, 'UNKNOWN'>): Uint8Array {
  const { source, destination } = header;
  if (source === undefined || destination === undefined) {
    throw new SmtpUsageError(`PROXY ${protocol} header needs a source and a destination`);
  }
  if (protocol === 'UNIX' || protocol === 'UNIX_DGRAM') {
    const block = new Uint8Array(2 * unixPathBytes);
    [source, destination].forEach((endpoint, index) => {
      const path = utf8Encoder.encode(endpoint.address);
      // The path is NUL-terminated within its 108 bytes, as sun_path is read back.
      if (path.length >= unixPathBytes || path.includes(0)) {
        throw new SmtpUsageError(`UNIX socket path must be under ${unixPathBytes} bytes without NUL`);
      }
      block.set(path, index * unixPathBytes);
    });
    return block;
  }
  const isIpv4 = protocol === 'TCP4' || protocol === 'UDP4';
  const size = isIpv4 ? 4 : 16;
  const block = new Uint8Array(2 * size + 4);
  [source, destination].forEach((endpoint, index) => {
    const address = isIpv4 ? parseIpv4(endpoint.address) : parseIpv6(endpoint.address);
    if (address === null)
      throw new SmtpUsageError(`Not an ${isIpv4 ? 'IPv4' : 'IPv6'} address: ${endpoint.address}`);
    checkPort(endpoint.port);
    block.set(address, index * size);
    block[2 * size + index * 2] = endpoint.port >> 8;
    block[2 * size + index * 2 + 1] = endpoint.port & 0xff;
  });
  return block;
}
