/**
 * Does a user own `address`? Patterns are `alice@example.com` or `*@example.com`. Compared without
 * case: RFC 5321 §2.4 lets a server treat local parts case-sensitively, but no mailbox here differs
 * only by case, and a check that "Alice@" passes where "alice@" fails would only confuse.
 */
export function isAddressOwned(patterns: readonly string[], address: string): boolean {
  const normalized = address.toLowerCase();
  const at = normalized.lastIndexOf('@');
  const domain = at === -1 ? null : normalized.slice(at + 1);
  return patterns.some((pattern) => {
    const lowered = pattern.toLowerCase();
    return lowered.startsWith('*@') ? domain !== null && lowered.slice(2) === domain : lowered === normalized;
  });
}

/** The addresses a user owns when the config names none: the username, if it is an address. */
export function defaultAddressesOf(username: string): readonly string[] {
  return /^[^\s@]+@[^\s@]+$/.test(username) ? [username.toLowerCase()] : [];
}
