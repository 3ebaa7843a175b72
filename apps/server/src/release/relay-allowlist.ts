/**
 * Whether a recipient matches `relay.allowedRecipients`: an exact address, `@domain` (that domain
 * exactly), or `*`. Case-insensitive. Pure.
 */
export function isRecipientAllowed(recipient: string, patterns: readonly string[]): boolean {
  const address = recipient.toLowerCase();
  const domain = address.slice(address.lastIndexOf('@'));
  return patterns.some((pattern) => {
    const lowered = pattern.toLowerCase();
    return lowered === '*' || lowered === address || (lowered.startsWith('@') && lowered === domain);
  });
}

/** The recipients the allow-list refuses, in order. */
export function refusedRecipients(recipients: readonly string[], patterns: readonly string[]): string[] {
  return recipients.filter((recipient) => !isRecipientAllowed(recipient, patterns));
}
