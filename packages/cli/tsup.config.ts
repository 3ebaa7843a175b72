import { defineLibrary } from '@smtp/tsup-config';

// An executable, not a library: one ESM entry with a shebang, no declarations.
export default defineLibrary({
  entry: { bin: 'src/bin.ts' },
  platform: 'node',
  format: ['esm'],
  dts: false,
  banner: { js: '#!/usr/bin/env node' },
});
