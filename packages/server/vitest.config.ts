import { definePackageProject } from '@smtp/vitest-config';

export default definePackageProject({ name: '@smtp/server', testTimeoutMs: 60_000 });
