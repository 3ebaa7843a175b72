import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface StaticAsset {
  readonly body: Uint8Array;
  readonly contentType: string;
}

const contentTypes: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
  '.ico': 'image/x-icon',
};

/**
 * The built web UI: dist/web beside the bundled dist/main.js, or apps/server/dist/web when the
 * sources run under vitest. Null when it has not been built.
 */
export function findWebRoot(): string | null {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'web'), join(here, '../../dist/web')];
  return candidates.find((candidate) => existsSync(join(candidate, 'index.html'))) ?? null;
}

/** The UI is a few small files: read once into memory and serve without touching the disk again. */
export function loadStaticAssets(webRoot: string | null): ReadonlyMap<string, StaticAsset> {
  const assets = new Map<string, StaticAsset>();
  if (webRoot === null) return assets;
  for (const name of readdirSync(webRoot)) {
    const contentType = contentTypes[extname(name)];
    if (contentType === undefined) continue;
    assets.set(`/${name}`, { body: readFileSync(join(webRoot, name)), contentType });
  }
  return assets;
}
