import { definePackageProject } from '@smtp/vitest-config';

export default definePackageProject({ name: '@smtp/protocol' });
