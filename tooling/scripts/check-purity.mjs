#!/usr/bin/env node
// Fails when @smtp/protocol reaches for anything outside the ECMAScript core: Node built-ins,
// Buffer, timers, process, require, or a runtime dependency. The protocol core must run unchanged
// in Node, Deno, Bun, browsers and workers.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const packageDir = join(root, 'packages/protocol');
const sourceDir = join(packageDir, 'src');

const forbidden = [
  {
    pattern: /\bfrom\s+['"](node:[\w/]+|net|tls|fs|dns|crypto|stream|events|buffer|os|path|util|zlib)['"]/,
    why: 'Node built-in import',
  },
  { pattern: /\bimport\s*\(\s*['"]node:/, why: 'dynamic Node built-in import' },
  { pattern: /\brequire\s*\(/, why: 'require()' },
  { pattern: /\bBuffer\b/, why: 'Buffer (use Uint8Array)' },
  {
    pattern: /\b(setTimeout|setInterval|setImmediate|clearTimeout|clearInterval|queueMicrotask)\b/,
    why: 'timer',
  },
  { pattern: /\bprocess\./, why: 'process global' },
  { pattern: /\bMath\.random\b/, why: 'Math.random (take a random source from the caller)' },
  { pattern: /\bDate\.now\b|\bnew Date\(\)/, why: 'clock (take time from the caller)' },
];

function* sourceFiles(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* sourceFiles(path);
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) yield path;
  }
}

const problems = [];
for (const file of sourceFiles(sourceDir)) {
  // Comments may name what they avoid ("no Buffer here"): blank them out, keeping line numbers.
  const source = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, (comment) =>
    comment.replace(/[^\n]/g, ' '),
  );
  const lines = source.split('\n');
  lines.forEach((line, index) => {
    const code = line.replace(/\/\/.*$/, '');
    for (const { pattern, why } of forbidden) {
      if (pattern.test(code)) problems.push(`${relative(root, file)}:${index + 1}: ${why}: ${line.trim()}`);
    }
  });
}

const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
  const names = Object.keys(manifest[field] ?? {});
  if (names.length > 0)
    problems.push(`packages/protocol/package.json: ${field} must be empty, has ${names.join(', ')}`);
}

if (problems.length > 0) {
  console.error(`@smtp/protocol is not pure (${problems.length} problem(s)):`);
  for (const problem of problems) console.error(`  ${problem}`);
  process.exit(1);
}
console.log(
  '@smtp/protocol purity: ok (no Node built-ins, Buffer, timers, clock, randomness or dependencies)',
);
