/**
 * The exit codes of `smtp-app`, documented in the README (sysexits.h numbers, as mail software
 * uses). Scripts and service managers test these, so they never change.
 */
export const exitCodes = {
  /** Stopped cleanly (SIGINT/SIGTERM). */
  ok: 0,
  /** An unexpected failure: a bug; the stack trace follows. */
  unexpected: 1,
  /** The database file is not a database, or is corrupt or truncated (EX_DATAERR). */
  corruptStore: 65,
  /** A listen address is in use or is not an address of this machine (EX_UNAVAILABLE). */
  addressUnavailable: 69,
  /** The data directory cannot be created or written, or the database file cannot be opened (EX_CANTCREAT). */
  dataDirUnusable: 73,
  /** Listening needs a privilege the process lacks, e.g. a port below 1024 (EX_NOPERM). */
  permissionDenied: 77,
  /** The configuration is invalid: a flag, an environment variable or the config file (EX_CONFIG). */
  config: 78,
} as const;

export type ExitCode = (typeof exitCodes)[keyof typeof exitCodes];
