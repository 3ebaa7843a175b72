import { describe, expect, it } from 'vitest';
import { compareCapabilities } from './capability-changes.js';

const item = (keyword: string, parameters = '') => ({ keyword, parameters, description: '' });

describe('compareCapabilities', () => {
  it('names what STARTTLS added, removed and changed', () => {
    const before = [item('PIPELINING'), item('SIZE', '10240000'), item('STARTTLS'), item('AUTH', 'CRAM-MD5')];
    const after = [
      item('PIPELINING'),
      item('SIZE', '20480000'),
      item('AUTH', 'CRAM-MD5 PLAIN LOGIN'),
      item('DSN'),
    ];
    expect(compareCapabilities(before, after)).toEqual({
      added: ['DSN'],
      removed: ['STARTTLS'],
      changed: [
        { keyword: 'SIZE', before: 'SIZE 10240000', after: 'SIZE 20480000' },
        { keyword: 'AUTH', before: 'AUTH CRAM-MD5', after: 'AUTH CRAM-MD5 PLAIN LOGIN' },
      ],
    });
  });

  it('finds AUTH appearing only after TLS', () => {
    expect(compareCapabilities([item('STARTTLS')], [item('AUTH', 'PLAIN LOGIN')])).toEqual({
      added: ['AUTH PLAIN LOGIN'],
      removed: ['STARTTLS'],
      changed: [],
    });
  });
});
