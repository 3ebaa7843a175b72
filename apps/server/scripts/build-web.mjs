// Bundles the inbox UI (Preact + TSX) into dist/web (or the directory given as the first
// argument): app.js, app.css, index.html.
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = process.argv[2] ?? join(root, 'dist', 'web');
await mkdir(outdir, { recursive: true });
await build({
  entryPoints: { app: join(root, 'src/web/main.tsx') },
  outdir,
  bundle: true,
  format: 'esm',
  target: ['es2022', 'chrome110', 'firefox115', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  minify: true,
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'warning',
});
await copyFile(join(root, 'src/web/styles.css'), join(outdir, 'app.css'));
await copyFile(join(root, 'src/web/index.html'), join(outdir, 'index.html'));
