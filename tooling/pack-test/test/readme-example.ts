// Turns a README's TypeScript example into the three forms users write: TypeScript (as written),
// an ES module (.mjs) and a CommonJS script (.cjs, `require`). Types are stripped by the workspace's
// TypeScript; imports become `require` calls and the body runs inside an async function.
import { readFileSync } from 'node:fs';
import ts from 'typescript';

/** The first ```ts block after `afterHeading` (or in the file when null). */
export function readExample(readmePath: string, afterHeading: string | null): string {
  const readme = readFileSync(readmePath, 'utf8');
  const start = afterHeading === null ? 0 : readme.indexOf(afterHeading);
  if (start < 0) throw new Error(`${readmePath} has no heading ${afterHeading}`);
  const match = /```ts\n([\s\S]*?)```/.exec(readme.slice(start));
  if (match?.[1] === undefined) throw new Error(`${readmePath} has no ts example`);
  return match[1];
}

export function toModule(source: string): string {
  return ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  }).outputText;
}

export function toCommonJs(source: string): string {
  const imports: string[] = [];
  const body = toModule(source).replace(
    /^import\s+(\{[^}]*\}|\*\s+as\s+\w+|\w+)\s+from\s+(['"][^'"]+['"]);?$/gm,
    (_line, names: string, specifier: string) => {
      const binding = names.startsWith('*') ? names.replace(/^\*\s+as\s+/, '') : names;
      imports.push(`const ${binding.replace(/\s+as\s+/g, ': ')} = require(${specifier});`);
      return '';
    },
  );
  if (/^\s*import\s/m.test(body)) throw new Error(`an import was not rewritten:\n${body}`);
  return `'use strict';\n${imports.join('\n')}\n(async () => {\n${body}\n})().catch((error) => {\n  console.error(error);\n  process.exit(1);\n});\n`;
}

/** The example as a CommonJS TypeScript file (.cts): imports stay (TypeScript emits `require`), the body
 * runs inside an async function because CommonJS has no top-level await. */
export function toCommonJsTypeScript(source: string): string {
  const importLines: string[] = [];
  const body = source.replace(/^import\s[^;]*;$/gm, (line) => {
    importLines.push(line);
    return '';
  });
  return `${importLines.join('\n')}\nvoid (async () => {\n${body}\n})();\nexport {};\n`;
}
