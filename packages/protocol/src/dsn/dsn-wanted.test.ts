import { describe, expect, it } from 'vitest';
import type { DsnNotify } from '../command/command.js';
import { type DsnAction, dsnActions } from './dsn-types.js';
import { dsnWanted } from './dsn-wanted.js';

const sender = { localPart: 'alice', domain: { kind: 'name', name: 'sender.test' } } as const;

describe('dsnWanted', () => {
  // Every NOTIFY value against every action: [notify, failed, delayed, delivered/relayed/expanded].
  const table: readonly [DsnNotify | undefined, boolean, boolean, boolean][] = [
    [undefined, true, true, false],
    ['NEVER', false, false, false],
    [['SUCCESS'], false, false, true],
    [['FAILURE'], true, false, false],
    [['DELAY'], false, true, false],
    [['FAILURE', 'DELAY'], true, true, false],
    [['SUCCESS', 'FAILURE'], true, false, true],
    [['SUCCESS', 'DELAY'], false, true, true],
    [['SUCCESS', 'FAILURE', 'DELAY'], true, true, true],
  ];
  const expected = (row: (typeof table)[number], action: DsnAction) =>
    action === 'failed' ? row[1] : action === 'delayed' ? row[2] : row[3];

  for (const row of table)
    for (const action of dsnActions)
      it(`NOTIFY=${row[0] === undefined ? '(none)' : String(row[0])}, ${action} → ${expected(row, action)}`, () => {
        expect(dsnWanted(row[0], action, sender)).toBe(expected(row, action));
      });

  it('never owes a DSN to the null reverse-path, whatever NOTIFY says', () => {
    for (const row of table)
      for (const action of dsnActions) expect(dsnWanted(row[0], action, null)).toBe(false);
  });
});
