import type { Options } from 'tsup';
export declare function defineLibrary(
  options?: { entry?: Record<string, string> | string[]; platform?: 'neutral' | 'node' } & Options,
): Options | Options[];
