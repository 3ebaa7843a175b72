import { parseProxyHeaderV1 } from './proxy-header-v1.js';
import { parseProxyHeaderV2, proxyV2Signature } from './proxy-header-v2.js';

/**
 * The HAProxy PROXY protocol header (proxy-protocol.txt): what a load balancer in front of the server
 * says about the connection it relays. Only accept it from trusted proxies (§5).
 */

/** The relayed connection's transport. v1 knows TCP4, TCP6 and UNKNOWN; v2 adds UDP and UNIX sockets. */
export type ProxyProtocol = 'TCP4' | 'TCP6' | 'UDP4' | 'UDP6' | 'UNIX' | 'UNIX_DGRAM' | 'UNKNOWN';

/** An endpoint: an IP address in canonical text (RFC 5952 for IPv6) and a port, or a UNIX socket path and port 0. */
export interface ProxyEndpoint {
  readonly address: string;
  readonly port: number;
}

export interface ProxyHeader {
  readonly version: 1 | 2;
  /**
   * PROXY: relayed for a client, `source` and `destination` describe it. LOCAL (v2 only): the proxy's
   * own connection, such as a health check; use the real endpoints. v1 `UNKNOWN` means the same.
   */
  readonly command: 'PROXY' | 'LOCAL';
  readonly protocol: ProxyProtocol;
  /** Present for PROXY with a known protocol. */
  readonly source?: ProxyEndpoint;
  readonly destination?: ProxyEndpoint;
  /** v2 type-length-value extensions by type (§2.2), e.g. 0x02 authority (SNI), 0x05 unique id. First one wins. */
  readonly tlvs?: ReadonlyMap<number, Uint8Array>;
}

export type ProxyHeaderParseResult =
  | { readonly status: 'incomplete' }
  | { readonly status: 'invalid'; readonly reason: string }
  | { readonly status: 'ok'; readonly header: ProxyHeader; readonly consumedBytes: number };

const proxyV1Prefix = new Uint8Array([0x50, 0x52, 0x4f, 0x58, 0x59, 0x20]); // "PROXY "

/**
 * Reads a PROXY header, v1 or v2, from the first bytes of a connection (§2.2: told apart by their
 * first bytes). Call it again with more bytes while it says `incomplete`; on `ok`, the connection's
 * own data starts at `consumedBytes`. `invalid` means the connection must be closed (§2.1).
 * Never throws, whatever the bytes.
 */
export function parseProxyHeader(bytes: Uint8Array): ProxyHeaderParseResult {
  if (bytes.length === 0) return { status: 'incomplete' };
  if (startsLike(bytes, proxyV2Signature)) {
    return bytes.length < proxyV2Signature.length ? { status: 'incomplete' } : parseProxyHeaderV2(bytes);
  }
  if (startsLike(bytes, proxyV1Prefix)) {
    return bytes.length < proxyV1Prefix.length ? { status: 'incomplete' } : parseProxyHeaderV1(bytes);
  }
  return { status: 'invalid', reason: 'Not a PROXY protocol header: bad signature' };
}

/** Whether `bytes` and `prefix` agree on their common length. */
function startsLike(bytes: Uint8Array, prefix: Uint8Array): boolean {
  const length = Math.min(bytes.length, prefix.length);
  for (let index = 0; index < length; index += 1) if (bytes[index] !== prefix[index]) return false;
  return true;
}

export { serializeProxyHeaderV1 } from './proxy-header-v1.js';
export { serializeProxyHeaderV2 } from './proxy-header-v2.js';
