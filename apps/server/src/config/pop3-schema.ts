import { z } from 'zod';
import { parseDuration } from './parse-duration.js';

const port = z.number().int().min(0).max(65_535);
const duration = z.union([z.string(), z.number()]).transform((value, context) => {
  const durationMs = parseDuration(value);
  if (durationMs === null) {
    context.addIssue({ code: 'custom', message: 'expected a duration such as "30s", "10m" or milliseconds' });
    return z.NEVER;
  }
  return durationMs;
});

const pop3User = z.strictObject({
  username: z.string().min(1),
  /** A plain password or a scrypt hash from `smtp-app hash-password`. */
  password: z.string().min(1),
});

/**
 * The POP3 listener (capture mode): mail clients read the captured inbox. Off unless a port is set.
 * Every user sees the same inbox.
 */
export const pop3Schema = z
  .strictObject({
    /** POP3 port (110-style, with STLS); 0 = any free port. Unset: no POP3 listener. */
    port: port.optional(),
    host: z.string().min(1).default('127.0.0.1'),
    /** Also listen with implicit TLS (POP3S, 995-style, RFC 8314 §3.3) on this port of pop3.host. */
    implicitTlsPort: port.optional(),
    /** Who may log in; empty: the web UI's users (http.auth.users). */
    users: z.array(pop3User).default([]),
    /**
     * USER/PASS and AUTH PLAIN before STLS from clients that are not on loopback. Off by default,
     * as Dovecot's disable_plaintext_auth: passwords do not cross the network in clear.
     */
    allowPlaintext: z.boolean().default(false),
    /** Autologout after this long without a command (RFC 1939 §3: at least 10 minutes). */
    idleTimeout: duration.prefault('10m'),
    /** Failed logins from one address within failedLoginWindow before its logins are refused; 0 = no limit. */
    maxFailedLogins: z.number().int().min(0).default(10),
    failedLoginWindow: duration.prefault('15m'),
  })
  .prefault({});

export type Pop3Config = z.output<typeof pop3Schema>;

/** POP3 needs users to log in, and reads the capture inbox (not an MTA's queue). */
export function checkPop3(
  config: {
    readonly mode: 'capture' | 'mta';
    readonly pop3: Pop3Config;
    readonly http: { readonly auth: { readonly users: readonly unknown[] } };
  },
  context: z.RefinementCtx,
): void {
  const { pop3 } = config;
  if (pop3.port === undefined && pop3.implicitTlsPort === undefined) return;
  if (config.mode === 'mta') {
    context.addIssue({
      code: 'custom',
      path: ['pop3'],
      message: 'POP3 serves the capture inbox: capture mode only',
    });
  }
  if (pop3.users.length === 0 && config.http.auth.users.length === 0) {
    context.addIssue({
      code: 'custom',
      path: ['pop3', 'users'],
      message: 'POP3 needs users: set pop3.users (or --pop3-users user:password), or http.auth.users',
    });
  }
}
