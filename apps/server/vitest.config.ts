import { definePackageProject } from '@smtp/vitest-config';

// The browser and crash tests start real processes and Chromium: give them room on a 2-core machine.
export default definePackageProject({ name: '@smtp/app', testTimeoutMs: 60_000 });
