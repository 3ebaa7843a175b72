import { usageError } from '../cli-error.js';

/** Where `--quit-after` stops a session, in the order the steps happen (swaks's stop points). */
export const quitAfterPoints = ['CONNECT', 'EHLO', 'TLS', 'AUTH', 'MAIL', 'RCPT', 'DATA'] as const;
export type QuitAfter = (typeof quitAfterPoints)[number];

/** swaks's other names for the same points. */
const synonyms: Readonly<Record<string, QuitAfter>> = {
  BANNER: 'CONNECT',
  GREETING: 'CONNECT',
  HELO: 'EHLO',
  LHLO: 'EHLO',
  STARTTLS: 'TLS',
  FROM: 'MAIL',
  TO: 'RCPT',
};

export function parseQuitAfter(value: string | undefined): QuitAfter | null {
  if (value === undefined) return null;
  const name = value.trim().toUpperCase();
  const point = (quitAfterPoints as readonly string[]).includes(name)
    ? (name as QuitAfter)
    : (synonyms[name] ?? null);
  if (point === null) {
    throw usageError(`--quit-after '${value}': choose one of ${quitAfterPoints.join(', ')}`);
  }
  return point;
}
