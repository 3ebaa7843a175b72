/** What the internal address scanners accept; derived from CommandSyntax plus the SMTPUTF8 decision. */
export interface GrammarOptions {
  /** CommandSyntax mode 'lenient': the deviations listed in docs/lenient-mode.md. */
  readonly lenient: boolean;
  /** UTF-8 in local parts and domains (RFC 6531 §3.3). */
  readonly utf8: boolean;
}

/** Why a scanner refused: bad grammar, non-ASCII where SMTPUTF8 does not apply, or a §4.5.3.1 size limit. */
export type GrammarFailure = 'syntax' | 'utf8' | 'length';

export function isGrammarFailure(value: unknown): value is GrammarFailure {
  return typeof value === 'string';
}
