import { describe, expect, it } from 'vitest';
import { combineExitCodes, exitCodes } from './exit-codes.js';

describe('combineExitCodes', () => {
  it('is ok only when everything is ok, the shared failure when all fail alike, else partial', () => {
    expect(combineExitCodes([0, 0])).toBe(exitCodes.ok);
    expect(combineExitCodes([2, 2])).toBe(exitCodes.temporary);
    expect(combineExitCodes([0, 3])).toBe(exitCodes.partial);
    expect(combineExitCodes([2, 3])).toBe(exitCodes.partial);
    expect(combineExitCodes([4])).toBe(exitCodes.network);
  });
});
