import { definePackageProject } from '@smtp/vitest-config';

export default definePackageProject({ name: '@smtp/client', testTimeoutMs: 60_000 });
