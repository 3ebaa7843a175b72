import { defineLibrary } from '@smtp/tsup-config';

export default defineLibrary({
  entry: { index: 'src/index.ts', testing: 'src/testing/index.ts' },
  platform: 'neutral',
});
