import { defineConfig } from 'tsup';

// The benchmark measures the sources as they are: @smtp/client with @smtp/protocol bundled from its
// `source` export, so a stale packages/protocol/dist cannot skew (or break) the figures.
export default defineConfig({
  entry: { client: 'src/index.ts' },
  outDir: 'bench/dist',
  format: ['esm'],
  platform: 'node',
  target: 'es2022',
  clean: true,
  dts: false,
  sourcemap: true,
  noExternal: ['@smtp/protocol'],
  esbuildOptions(options) {
    options.conditions = ['source'];
  },
});
