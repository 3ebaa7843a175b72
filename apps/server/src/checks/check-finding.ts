/** One thing a message check found: an error breaks a rule, a warning is a likely problem. */
export interface CheckFinding {
  readonly level: 'error' | 'warning';
  /** Stable, for scripts: e.g. `not-bracketed`. */
  readonly code: string;
  readonly message: string;
}
