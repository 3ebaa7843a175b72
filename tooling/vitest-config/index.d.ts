import type { UserWorkspaceConfig } from 'vitest/config';
export declare function definePackageProject(options: {
  name: string;
  testTimeoutMs?: number;
  include?: string[];
  setupFiles?: string[];
}): UserWorkspaceConfig;
