import { describe, expect, it } from 'vitest';
import { chaosFaultSchema } from '../config/chaos-schema.js';
import { decideFault } from './chaos-decision.js';

const fault = (input: Record<string, unknown>) => chaosFaultSchema.parse(input);

describe('decideFault', () => {
  it('never fires without a fault or at probability 0, whatever the draw', () => {
    expect(decideFault(undefined, () => 0)).toBeNull();
    for (const draw of [0, 0.000001, 0.5, 0.999999])
      expect(decideFault(fault({ code: 451, probability: 0 }), () => draw)).toBeNull();
  });

  it('always fires at probability 100 without drawing', () => {
    const fired = decideFault(fault({ code: 451, enhanced: '4.3.2', text: 'later' }), () => {
      throw new Error('no draw needed');
    });
    expect(fired).toEqual({ delayMs: 0, reply: { code: 451, enhanced: '4.3.2', text: 'later' } });
  });

  it('fires for draws below the probability only', () => {
    const half = fault({ code: 550, probability: 50 });
    expect(decideFault(half, () => 0.4999)).not.toBeNull();
    expect(decideFault(half, () => 0.5)).toBeNull();
  });

  it('defaults the enhanced status to the reply class, and a fault without a code only delays', () => {
    expect(decideFault(fault({ code: 552 }), () => 0)?.reply).toMatchObject({ enhanced: '5.0.0' });
    expect(decideFault(fault({ delay: '2s' }), () => 0)).toEqual({ delayMs: 2000, reply: null });
  });

  it('refuses a code outside 4xx/5xx and an enhanced status of another class', () => {
    expect(chaosFaultSchema.safeParse({ code: 250 }).success).toBe(false);
    expect(chaosFaultSchema.safeParse({ code: 451, enhanced: '5.1.1' }).success).toBe(false);
    expect(chaosFaultSchema.safeParse({ code: 451, text: 'two\r\nlines' }).success).toBe(false);
  });
});
