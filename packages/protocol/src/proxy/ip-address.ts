/**
 * IP address text ↔ bytes for the PROXY protocol header. Parsing is strict (proxy-protocol.txt §2.1:
 * no leading zeros in IPv4 parts, hex groups of at most 4 digits, one `::` at most); formatting is
 * canonical (RFC 5952 §4, with the IPv4-mapped form of §5), so v1 and v2 give the same strings.
 */

const ipv4Part = /^(0|[1-9][0-9]{0,2})$/;
const hexGroup = /^[0-9A-Fa-f]{1,4}$/;

export function parseIpv4(text: string): Uint8Array | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const bytes = new Uint8Array(4);
  for (let index = 0; index < 4; index += 1) {
    const part = parts[index] as string;
    if (!ipv4Part.test(part)) return null;
    const value = Number(part);
    if (value > 255) return null;
    bytes[index] = value;
  }
  return bytes;
}

export function formatIpv4(bytes: Uint8Array): string {
  return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
}

/** 16 bytes, or null. Accepts a dotted IPv4 tail (`::ffff:192.0.2.1`) as inet_pton does. */
export function parseIpv6(text: string): Uint8Array | null {
  if (text.length < 2 || text.length > 45) return null;
  const compression = text.indexOf('::');
  if (compression >= 0 && text.indexOf('::', compression + 1) >= 0) return null;
  const head = compression < 0 ? text : text.slice(0, compression);
  const tail = compression < 0 ? '' : text.slice(compression + 2);
  const headGroups = parseGroups(head, compression < 0);
  const tailGroups = parseGroups(tail, true);
  if (headGroups === null || tailGroups === null) return null;
  const groupCount = headGroups.length + tailGroups.length;
  if (compression < 0 ? groupCount !== 8 : groupCount > 7) return null;
  const bytes = new Uint8Array(16);
  headGroups.forEach((group, index) => {
    writeGroup(bytes, index, group);
  });
  tailGroups.forEach((group, index) => {
    writeGroup(bytes, 8 - tailGroups.length + index, group);
  });
  return bytes;
}

/** The 16-bit groups of one side of `::`; an IPv4 tail counts as two groups where it may appear. */
function parseGroups(text: string, mayEndWithIpv4: boolean): number[] | null {
  if (text === '') return [];
  const parts = text.split(':');
  const groups: number[] = [];
  for (let index = 0; index < parts.length; index += 1) {
    const part = parts[index] as string;
    if (mayEndWithIpv4 && index === parts.length - 1 && part.includes('.')) {
      const ipv4 = parseIpv4(part);
      if (ipv4 === null) return null;
      groups.push(
        ((ipv4[0] as number) << 8) | (ipv4[1] as number),
        ((ipv4[2] as number) << 8) | (ipv4[3] as number),
      );
    } else {
      if (!hexGroup.test(part)) return null;
      groups.push(Number.parseInt(part, 16));
    }
  }
  return groups;
}

function writeGroup(bytes: Uint8Array, index: number, group: number): void {
  bytes[index * 2] = group >> 8;
  bytes[index * 2 + 1] = group & 0xff;
}

/** RFC 5952 §4: lowercase, no leading zeros, the longest run (2+ groups) of zeros as `::`. */
export function formatIpv6(bytes: Uint8Array): string {
  const groups: number[] = [];
  for (let index = 0; index < 16; index += 2)
    groups.push(((bytes[index] as number) << 8) | (bytes[index + 1] as number));
  // RFC 5952 §5: IPv4-mapped addresses keep their dotted tail.
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    return `::ffff:${formatIpv4(bytes.subarray(12))}`;
  }
  let bestStart = -1;
  let bestLength = 1;
  for (let start = 0; start < 8; ) {
    if (groups[start] !== 0) {
      start += 1;
      continue;
    }
    let end = start;
    while (end < 8 && groups[end] === 0) end += 1;
    if (end - start > bestLength) {
      bestStart = start;
      bestLength = end - start;
    }
    start = end;
  }
  const hex = groups.map((group) => group.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}
