import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * The path of an external tool, or a failing test with the command that installs it. Interop tests
 * never skip: a missing peer is a broken environment, not a passing test.
 */
export function requireTool(name: string, installHint: string): string {
  if (name.startsWith('/')) {
    if (existsSync(name)) return name;
    throw new Error(`${name} is missing. Install it: ${installHint}`);
  }
  try {
    return execFileSync('which', [name], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(`${name} is not on PATH. Install it: ${installHint}`);
  }
}
