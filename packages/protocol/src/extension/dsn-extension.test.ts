import { describe, expect, it } from 'vitest';
import { envidParameter, envidProblem } from './dsn-extension.js';

describe('envidProblem (RFC 3461 §4.4)', () => {
  it('accepts 1 to 100 characters of printable ASCII as xtext', () => {
    expect(envidProblem('order-1234')).toBeNull();
    expect(envidProblem('a'.repeat(100))).toBeNull();
  });

  it('names the problem of an ENVID the serialiser would refuse', () => {
    expect(envidProblem('')).toMatch(/1 to 100 characters/);
    expect(envidProblem('a'.repeat(101))).toMatch(/1 to 100 characters/);
    // "+" is written as "+2B": 34 of them are 102 characters as xtext.
    expect(envidProblem('+'.repeat(34))).toMatch(/as xtext/);
    expect(envidProblem('caf\u00e9')).toMatch(/printable ASCII/);
    expect(envidProblem('a\r\nRCPT TO:<x@y>')).toBe('ENVID must not contain CR, LF or NUL');
    expect(envidProblem('a\0')).toBe('ENVID must not contain CR, LF or NUL');
  });

  it('is the rule the serialiser applies', () => {
    for (const envid of ['ok', '', 'a'.repeat(101), '+'.repeat(34), 'x\ny']) {
      const problem = envidProblem(envid);
      if (problem === null) expect(() => envidParameter.serialize(envid)).not.toThrow();
      else expect(() => envidParameter.serialize(envid)).toThrow(problem);
    }
  });
});
