import { addressParser } from 'postal-mime';

/**
 * The addresses in address header fields (From, Sender, To, …), display names and comments dropped
 * and groups flattened, read by postal-mime's RFC 5322 address parser. Lower case is left to the caller.
 */
export function addressesInHeader(values: readonly string[]): string[] {
  const addresses: string[] = [];
  for (const value of values) {
    for (const entry of addressParser(value)) {
      if ('group' in entry && Array.isArray(entry.group)) {
        for (const member of entry.group) if (member.address) addresses.push(member.address);
      } else if (entry.address) {
        addresses.push(entry.address);
      }
    }
  }
  return addresses;
}
