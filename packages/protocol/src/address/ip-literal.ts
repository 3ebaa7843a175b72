// RFC 5321 §4.1.3 address literals: IPv4 and IPv6 forms.

/** `Snum 3("." Snum)` with Snum = 1*3DIGIT in 0..255. */
export function isIpv4Address(text: string): boolean {
  let groups = 0;
  let digits = 0;
  let value = 0;
  for (let index = 0; index <= text.length; index++) {
    const code = index < text.length ? text.charCodeAt(index) : 46; // a virtual "." closes the last group
    if (code >= 48 && code <= 57) {
      value = value * 10 + (code - 48);
      if (++digits > 3 || value > 255) return false;
    } else if (code === 46) {
      if (digits === 0) return false;
      groups++;
      digits = 0;
      value = 0;
    } else {
      return false;
    }
  }
  return groups === 4;
}

function isHexGroup(group: string): boolean {
  return group.length >= 1 && group.length <= 4 && /^[0-9A-Fa-f]+$/.test(group);
}

function countGroups(part: string): number {
  if (part === '') return 0;
  const groups = part.split(':');
  for (const group of groups) if (!isHexGroup(group)) return -1;
  return groups.length;
}

/**
 * IPv6-full / IPv6-comp / IPv6v4-full / IPv6v4-comp. An embedded IPv4 address counts as two groups,
 * which turns the four forms into one rule: 8 groups without "::", at most 6 with it, because in RFC 5321
 * "::" stands for at least two zero groups. `lenient` follows RFC 4291 instead ("::" may stand for one
 * group: at most 7), as some clients write `1:2:3:4:5:6:7::`.
 */
export function isIpv6Address(text: string, lenient: boolean): boolean {
  let address = text;
  const lastColon = text.lastIndexOf(':');
  if (lastColon === -1) return false;
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    if (!isIpv4Address(tail)) return false;
    address = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const compressed = address.indexOf('::');
  if (compressed === -1) return countGroups(address) === 8;
  if (address.indexOf('::', compressed + 1) !== -1) return false;
  const left = countGroups(address.slice(0, compressed));
  const right = countGroups(address.slice(compressed + 2));
  if (left < 0 || right < 0) return false;
  return left + right <= (lenient ? 7 : 6);
}
