import { emptyCapabilities, esmtpExtensions, parseCapabilities } from '@smtp/protocol';
import { describe, expect, it } from 'vitest';
import { explainCapabilities } from './explain-capabilities.js';

describe('explainCapabilities', () => {
  it('explains every extension of the core table with its own meaning', () => {
    const keywords = Object.values(esmtpExtensions).map((extension) => extension.keyword);
    // AUTH without a mechanism offers nothing: give it one.
    const lines = keywords.map((keyword) => (keyword === 'AUTH' ? 'AUTH PLAIN' : keyword));
    const capabilities = parseCapabilities({ code: 250, enhanced: null, lines: ['mx.test', ...lines] });
    const explained = explainCapabilities(capabilities);
    expect(explained.map((entry) => entry.keyword)).toEqual(keywords);
    for (const entry of explained) expect(entry.description).not.toBe('extension unknown to smtp');
    expect(explained.find((entry) => entry.keyword === 'MT-PRIORITY')?.description).toBe(
      esmtpExtensions.mtPriority.meaning,
    );
  });

  it('keeps parameters, names the size, and says so for a keyword nobody knows', () => {
    const explained = explainCapabilities({
      ...emptyCapabilities,
      size: 10 * 1024 * 1024,
      mtPriority: 'MIXER',
      unknown: new Map([
        ['LIMITS', 'RCPTMAX=100'],
        ['X-NOBODY', ''],
      ]),
    });
    expect(explained).toEqual([
      { keyword: 'SIZE', parameters: '10485760', description: 'messages up to 10.0 MiB (RFC 1870)' },
      { keyword: 'MT-PRIORITY', parameters: 'MIXER', description: esmtpExtensions.mtPriority.meaning },
      {
        keyword: 'LIMITS',
        parameters: 'RCPTMAX=100',
        description: 'the server announces its limits (RFC 9422)',
      },
      { keyword: 'X-NOBODY', parameters: '', description: 'extension unknown to smtp' },
    ]);
  });
});
