// Reads a packed tarball the way npm will: its file list and its manifest, with no workspace around it.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export type PackedPackage = {
  readonly name: string;
  readonly tarball: string;
  /** Paths inside the package, without the `package/` prefix npm puts in front. */
  readonly files: ReadonlySet<string>;
  readonly manifest: Record<string, unknown>;
  /** Where the tarball was unpacked, to read shipped files. */
  readonly unpackedDirectory: string;
};

export function packPackage(packageDirectory: string, destination: string): string {
  const output = execFileSync('pnpm', ['pack', '--pack-destination', destination], {
    cwd: packageDirectory,
    encoding: 'utf8',
  });
  const tarball = output
    .trim()
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.endsWith('.tgz'))
    .at(-1);
  if (tarball === undefined) throw new Error(`pnpm pack printed no tarball:\n${output}`);
  return tarball.startsWith('/') ? tarball : join(destination, tarball);
}

export function inspectTarball(name: string, tarball: string, unpackInto: string): PackedPackage {
  const listing = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' });
  const files = new Set(
    listing
      .split('\n')
      .filter((line) => line.startsWith('package/') && !line.endsWith('/'))
      .map((line) => line.slice('package/'.length)),
  );
  mkdirSync(unpackInto, { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', unpackInto, '--strip-components=1']);
  const manifest = JSON.parse(readFileSync(join(unpackInto, 'package.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  return { name, tarball, files, manifest, unpackedDirectory: unpackInto };
}

/** Every file an `exports` map, `main`/`module`/`types` or `bin` points at. */
export function manifestTargets(manifest: Record<string, unknown>): string[] {
  const targets: string[] = [];
  // Every condition counts, "source" too: it points at TypeScript that is shipped for source maps.
  const collect = (value: unknown): void => {
    if (typeof value === 'string') targets.push(value);
    else if (value !== null && typeof value === 'object')
      for (const nested of Object.values(value)) collect(nested);
  };
  collect(manifest.exports);
  for (const field of ['main', 'module', 'types'] as const) collect(manifest[field]);
  collect(manifest.bin);
  return targets.map((target) => target.replace(/^\.\//, ''));
}

/** The `sources` of every shipped source map that are not shipped themselves. */
export function unshippedMapSources(packed: PackedPackage): string[] {
  const missing: string[] = [];
  for (const file of packed.files) {
    if (!file.endsWith('.map')) continue;
    const map = JSON.parse(readFileSync(join(packed.unpackedDirectory, file), 'utf8')) as {
      sources: string[];
    };
    const directory = file.includes('/') ? file.slice(0, file.lastIndexOf('/')) : '';
    for (const source of map.sources) {
      const resolved = new URL(source, `file:///${directory}/`).pathname.slice(1);
      if (!packed.files.has(resolved)) missing.push(`${file} → ${source}`);
    }
  }
  return missing;
}
