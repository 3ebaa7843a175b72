import { defineLibrary } from '@smtp/tsup-config';

// An application, not a library: one ESM entry, no declarations. Workspace packages are bundled
// from their sources (the "source" condition), so building this app does not need theirs built
// first; npm dependencies stay external. The web UI is built by scripts/build-web.mjs.
export default defineLibrary({
  entry: {
    main: 'src/main.ts',
    'parse-worker': 'src/mime/parse-worker.ts',
    'sqlite-write-worker': 'src/sqlite/sqlite-write-worker.ts',
    'sqlite-checkpoint-worker': 'src/sqlite/sqlite-checkpoint-worker.ts',
  },
  format: ['esm'],
  dts: false,
  treeshake: false,
  noExternal: [/^@smtp\//],
  esbuildOptions(options) {
    options.conditions = ['source', 'import', 'default'];
  },
  banner: { js: '#!/usr/bin/env node' },
});
