import { describe, expect, it } from 'vitest';
import { addressesInHeader } from './header-addresses.js';

describe('addressesInHeader', () => {
  it.each([
    [['Alice <alice@example.com>'], ['alice@example.com']],
    [['"Doe, Jane" <jane@example.com>, bob@example.org'], ['jane@example.com', 'bob@example.org']],
    [['alice@example.com (Alice)'], ['alice@example.com']],
    [['Team: a@example.com, b@example.com;'], ['a@example.com', 'b@example.com']],
    [
      ['=?utf-8?q?J=C3=B6rg?= <joerg@example.com>', 'second@example.com'],
      ['joerg@example.com', 'second@example.com'],
    ],
    [['undisclosed-recipients:;'], []],
    [[], []],
  ])('%j → %j', (values, expected) => {
    expect(addressesInHeader(values)).toEqual(expected);
  });
});
