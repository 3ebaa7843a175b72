/**
 * The Authentication-Results header field (RFC 8601): one field naming us (the authserv-id) with a
 * result for every check, and the removal of fields from elsewhere that claim to be ours.
 */

/**
 * `Authentication-Results: <authservId>;` then one resinfo per line (RFC 8601 §2.2), folded with a
 * tab; "none" when no method ran (§2.2: `authres-payload` with no-result). Ends in CRLF.
 */
export function formatAuthenticationResults(authservId: string, results: readonly string[]): string {
  return `Authentication-Results: ${authenticationResultsValue(authservId, results)}\r\n`;
}

/** The field's value (what an ARC-Authentication-Results repeats after `i=n;`). */
export function authenticationResultsValue(authservId: string, results: readonly string[]): string {
  if (results.length === 0) return `${authservId}; none`;
  return `${authservId};\r\n\t${results.map(unfold).join(';\r\n\t')}`;
}

function unfold(resinfo: string): string {
  return resinfo.replace(/\r?\n[ \t]*/g, ' ');
}

const headerEnd = Buffer.from('\r\n\r\n', 'latin1');

/**
 * RFC 8601 §5: a border MTA removes Authentication-Results fields that carry its own authserv-id
 * before it adds its own, or a sender could forge our verdicts. Fields of other authserv-ids stay
 * (they are informational to us). Returns the message unchanged (the same bytes) when none is found.
 */
export function removeOwnAuthenticationResults(message: Uint8Array, authservId: string): Uint8Array {
  const bytes = Buffer.from(message.buffer, message.byteOffset, message.byteLength);
  const end = bytes.indexOf(headerEnd);
  const headerLength = end < 0 ? bytes.length : end + 2;
  const header = bytes.subarray(0, headerLength).toString('latin1');
  const fields = header.split(/\r\n(?![ \t])/);
  const wanted = authservId.toLowerCase();
  const kept = fields.filter((field) => {
    const match = /^authentication-results[ \t]*:/i.exec(field);
    if (match === null) return true;
    return authservIdOf(field.slice(match[0].length)) !== wanted;
  });
  if (kept.length === fields.length) return message;
  return Buffer.concat([Buffer.from(kept.join('\r\n'), 'latin1'), bytes.subarray(headerLength)]);
}

/** The first token of the value, after any comments and folding whitespace (RFC 8601 §2.2). */
function authservIdOf(value: string): string {
  let rest = value.replace(/\r\n/g, '');
  for (;;) {
    rest = rest.trimStart();
    if (!rest.startsWith('(')) break;
    let depth = 0;
    let index = 0;
    for (; index < rest.length; index++) {
      if (rest[index] === '\\') index++;
      else if (rest[index] === '(') depth++;
      else if (rest[index] === ')' && --depth === 0) break;
    }
    rest = rest.slice(index + 1);
  }
  const token = /^[^\s;()]+/.exec(rest)?.[0] ?? '';
  return token.replace(/^"|"$/g, '').toLowerCase();
}
