import { defineLibrary } from '@smtp/tsup-config';

// An executable, not a library: one ESM entry with a shebang, no declarations. Split into chunks:
// each subcommand (and what only it imports) loads when it runs, so start-up stays short.
export default defineLibrary({
  entry: { bin: 'src/bin.ts' },
  platform: 'node',
  format: ['esm'],
  splitting: true,
  dts: false,
  banner: { js: '#!/usr/bin/env node' },
});
