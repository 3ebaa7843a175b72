// Registered by definePackageProject only when FC_NUM_RUNS is set (`pnpm test:deep`): every property
// test then runs that many times unless it passes its own `numRuns`, which still wins (fast-check
// merges per-assertion parameters over the global ones).
import fc from 'fast-check';
import { readNumRuns } from './num-runs.js';

const numRuns = readNumRuns(process.env);
if (numRuns !== undefined) fc.configureGlobal({ ...fc.readConfigureGlobal(), numRuns });
