/**
 * A reduced SASLprep (RFC 4013) for user names and passwords: non-ASCII spaces become SPACE,
 * "commonly mapped to nothing" characters are dropped, the result is NFKC-normalised, and control
 * characters, private-use code points, lone surrogates and non-characters are refused (null).
 * Bidirectional-text checks (RFC 3454 §6) are not done.
 */
export function saslprep(text: string): string | null {
  const mapped = text
    // RFC 3454 C.1.2 non-ASCII space characters → SPACE
    .replace(/[\u00a0\u1680\u2000-\u200b\u202f\u205f\u3000]/g, ' ')
    // RFC 3454 B.1 commonly mapped to nothing
    .replace(/\u00ad|\u034f|\u1806|\u180b|\u180c|\u180d|\u200c|\u200d|\u2060|\ufeff|[\ufe00-\ufe0f]/g, '')
    .normalize('NFKC');
  // C.2 control characters, C.3 private use, C.5 surrogates (lone), C.4 non-characters, C.8/C.9 (some).
  if (
    /[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u206a-\u206f\ue000-\uf8ff\ufdd0-\ufdef\ufff9-\ufffd]/.test(
      mapped,
    )
  ) {
    return null;
  }
  if (/\p{Co}|\p{Cs}|\p{Noncharacter_Code_Point}/u.test(mapped)) return null;
  return mapped;
}
