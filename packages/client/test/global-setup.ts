import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Builds dist/ with the package's own build (tsup): child-process tests import the built package. */
export default function setup(): void {
  const packageDirectory = fileURLToPath(new URL('..', import.meta.url));
  execFileSync('pnpm', ['run', '--silent', 'build'], {
    cwd: packageDirectory,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}
