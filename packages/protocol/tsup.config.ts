import { defineLibrary } from '@smtp/tsup-config';

// Two entries, one core: with splitting, `/testing` imports the chunk the main entry re-exports, so the
// tarball carries a single copy of the protocol (and one class identity for `instanceof`).
export default defineLibrary({
  entry: { index: 'src/index.ts', testing: 'src/testing/index.ts' },
  platform: 'neutral',
  splitting: true,
});
