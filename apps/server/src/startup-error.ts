import { type ExitCode, exitCodes } from './exit-codes.js';

/**
 * Why the app could not start, said in one line with a hint, and the exit code for it. main()
 * prints the message without a stack trace: the cause is outside the program (a busy port, a
 * file in the way), and the stack would bury the line that says what to do.
 */
export class StartupError extends Error {
  override readonly name = 'StartupError';
  readonly exitCode: ExitCode;

  constructor(message: string, exitCode: ExitCode, cause: unknown) {
    super(message, { cause });
    this.exitCode = exitCode;
  }
}

type ErrorCode = { readonly code?: unknown; readonly message?: unknown };

function codeOf(error: unknown): string {
  const code = (error as ErrorCode | null)?.code;
  return typeof code === 'string' ? code : '';
}

function reasonOf(error: unknown): string {
  const message = (error as ErrorCode | null)?.message;
  return typeof message === 'string' ? message : String(error);
}

/** The data directory could not be created or is not writable (mkdir, access). */
export function dataDirFailure(error: unknown, dataDir: string): StartupError | null {
  const hints: Readonly<Record<string, string>> = {
    EEXIST: 'a file of that name is in the way',
    ENOTDIR: 'a part of the path is a file, not a directory',
    EACCES: 'this user may not write there',
    EPERM: 'this user may not write there',
    EROFS: 'the file system is read-only',
    ENOSPC: 'the disk is full',
  };
  const hint = hints[codeOf(error)];
  if (hint === undefined) return null;
  return new StartupError(
    `cannot use data directory ${dataDir}: ${hint} (${codeOf(error)}); choose another with --storage-data-dir`,
    exitCodes.dataDirUnusable,
    error,
  );
}

/** Opening or migrating the SQLite file failed (better-sqlite3's SqliteError carries SQLITE_* codes). */
export function storeFailure(error: unknown, databaseFile: string): StartupError | null {
  const code = codeOf(error);
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
    return new StartupError(
      `${databaseFile} is not a usable database (${reasonOf(error)}): move it aside to start with an empty store, or restore a backup`,
      exitCodes.corruptStore,
      error,
    );
  }
  if (
    code.startsWith('SQLITE_CANTOPEN') ||
    code.startsWith('SQLITE_READONLY') ||
    code.startsWith('SQLITE_PERM') ||
    code.startsWith('SQLITE_IOERR') ||
    code === 'SQLITE_FULL'
  ) {
    return new StartupError(
      `cannot open ${databaseFile} for writing (${reasonOf(error)}): check that it is a file this user may write, or choose another --storage-data-dir`,
      exitCodes.dataDirUnusable,
      error,
    );
  }
  return null;
}

const flagsByListener = {
  SMTP: '--smtp-host/--smtp-port',
  SMTPS: '--smtp-host/--smtp-tls-implicit-port',
  HTTP: '--http-host/--http-port',
  POP3: '--pop3-host/--pop3-port',
  POP3S: '--pop3-host/--pop3-implicit-tls-port',
} as const;

/** A listener could not bind: which one, on what address, and the flag that changes it. */
export function listenFailure(
  error: unknown,
  listener: { readonly name: keyof typeof flagsByListener; readonly host: string; readonly port: number },
): StartupError | null {
  const where = `${listener.name} on ${listener.host.includes(':') ? `[${listener.host}]` : listener.host}:${listener.port}`;
  const flags = flagsByListener[listener.name];
  switch (codeOf(error)) {
    case 'EADDRINUSE':
      return new StartupError(
        `cannot listen for ${where}: the address is in use (another server, or smtp-app already running?); pick another with ${flags}`,
        exitCodes.addressUnavailable,
        error,
      );
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
      return new StartupError(
        `cannot listen for ${where}: this machine has no such address; pick another with ${flags}`,
        exitCodes.addressUnavailable,
        error,
      );
    case 'EACCES':
    case 'EPERM':
      return new StartupError(
        `cannot listen for ${where}: permission denied (ports below 1024 need privileges); pick another with ${flags}`,
        exitCodes.permissionDenied,
        error,
      );
    default:
      return null;
  }
}
