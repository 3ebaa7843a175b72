import { definePackageProject } from '@smtp/vitest-config';

// Packing, an npm install and several tsc runs on a loaded 2-core machine: generous, still bounded.
export default definePackageProject({ name: '@smtp/pack-test', testTimeoutMs: 240_000 });
