import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Builds dist/bin.js with the package's own build (tsup), as CI does before testing. */
export default function setup(): void {
  const packageDirectory = fileURLToPath(new URL('..', import.meta.url));
  execFileSync('pnpm', ['run', '--silent', 'build'], {
    cwd: packageDirectory,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}
