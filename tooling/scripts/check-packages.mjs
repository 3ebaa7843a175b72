#!/usr/bin/env node
// Runs publint and @arethetypeswrong/cli over every publishable package in packages/.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = (name) => join(root, 'node_modules/.bin', name);
let failed = false;

for (const name of readdirSync(join(root, 'packages'))) {
  const dir = join(root, 'packages', name);
  const manifestPath = join(dir, 'package.json');
  if (!existsSync(manifestPath)) continue;
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  if (manifest.private) continue;
  for (const [tool, args] of [
    ['publint', ['--strict', dir]],
    // Binaries-only packages have no types to check; the rest must resolve under node16 (CJS and ESM) and
    // bundler resolution. node10 resolution (no `exports`) cannot see subpaths and predates our engines (>= 20).
    ...(manifest.exports
      ? [['attw', ['--pack', dir, '--profile', 'node16', '--format', 'table-flipped']]]
      : []),
  ]) {
    try {
      execFileSync(bin(tool), args, { stdio: 'pipe', cwd: dir });
      console.log(`${manifest.name}: ${tool} ok`);
    } catch (error) {
      failed = true;
      console.error(`${manifest.name}: ${tool} failed`);
      console.error(String(error.stdout ?? ''), String(error.stderr ?? ''));
    }
  }
}
process.exit(failed ? 1 : 0);
