import { exitCodes } from '../exit-codes.js';
import { StartupError } from '../startup-error.js';
import { redactUrl } from './postgres-pool.js';

/** Why PostgreSQL could not be used at start, in one line with what to do (main prints it). */
export function postgresStartupFailure(error: unknown, url: string): StartupError {
  const { code, message } = error as { code?: unknown; message?: unknown };
  const reason = typeof message === 'string' ? message : String(error);
  const hints: Readonly<Record<string, string>> = {
    ECONNREFUSED: 'nothing listens there; is PostgreSQL running?',
    ENOTFOUND: 'the host name does not resolve',
    ETIMEDOUT: 'the server does not answer',
    '28P01': 'the password was refused',
    '28000': 'this user may not connect (pg_hba.conf)',
    '3D000': 'the database does not exist; create it (createdb)',
    '42501': 'this user may not create the tables; grant it CREATE on the database',
  };
  const hint = typeof code === 'string' ? hints[code] : undefined;
  return new StartupError(
    `cannot use PostgreSQL at ${redactUrl(url)}: ${hint ?? reason}; check storage.url (--db)`,
    exitCodes.addressUnavailable,
    error,
  );
}
