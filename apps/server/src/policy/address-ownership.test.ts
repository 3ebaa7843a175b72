import { describe, expect, it } from 'vitest';
import { defaultAddressesOf, isAddressOwned } from './address-ownership.js';

describe('isAddressOwned', () => {
  const patterns = ['alice@example.com', '*@alice.example'];

  it.each([
    ['alice@example.com', true],
    ['ALICE@Example.COM', true],
    ['bob@example.com', false],
    ['alice@example.org', false],
    ['anyone@alice.example', true],
    ['anyone@ALICE.example', true],
    ['anyone@sub.alice.example', false], // a wildcard covers one domain, not its subdomains
    ['alice@example.com.evil', false],
    ['x-alice@example.com', false],
    ['alice', false],
    ['', false],
  ])('%j → %s', (address, expected) => {
    expect(isAddressOwned(patterns, address)).toBe(expected);
  });

  it('owns nothing without patterns', () => {
    expect(isAddressOwned([], 'alice@example.com')).toBe(false);
  });
});

describe('defaultAddressesOf', () => {
  it.each([
    ['alice@example.com', ['alice@example.com']],
    ['Alice@Example.com', ['alice@example.com']],
    ['alice', []],
    ['a b@example.com', []],
  ])('%j → %j', (username, expected) => {
    expect(defaultAddressesOf(username)).toEqual(expected);
  });
});
