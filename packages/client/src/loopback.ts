import { isIP } from 'node:net';

/**
 * Whether a peer address is this machine's loopback (RFC 1122 §3.2.1.3: 127.0.0.0/8; RFC 4291 §2.5.3:
 * ::1; and 127.x.x.x mapped into IPv6). Traffic to it never crosses a network, which is what lets
 * credentials go there without TLS. Host names do not count: only the address actually connected to.
 */
export function isLoopbackAddress(address: string | null | undefined): boolean {
  if (address === null || address === undefined) return false;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const ipv4 = mapped ? mapped[1]! : address;
  if (isIP(ipv4) === 4) return ipv4.startsWith('127.');
  if (isIP(address) === 6) return /^(0{0,4}:){2,7}0{0,3}1$/.test(address) || address === '::1';
  return false;
}
