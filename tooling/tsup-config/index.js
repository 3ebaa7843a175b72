import { defineConfig } from 'tsup';

/**
 * The one way our libraries are built: ESM + CJS + declarations, tree-shakeable, Node 20 syntax.
 * @param {{ entry?: Record<string, string> | string[]; platform?: 'neutral' | 'node' } & import('tsup').Options} [options]
 */
export function defineLibrary(options = {}) {
  const { entry = { index: 'src/index.ts' }, platform = 'node', ...rest } = options;
  return defineConfig({
    entry,
    platform,
    format: ['esm', 'cjs'],
    // Declarations resolve siblings through their built types, never their sources.
    dts: { compilerOptions: { customConditions: [] } },
    sourcemap: true,
    clean: true,
    treeshake: true,
    target: 'es2022',
    splitting: false,
    ...(platform === 'neutral' ? { mainFields: ['module', 'main'] } : {}),
    ...rest,
  });
}
