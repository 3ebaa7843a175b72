import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Maildir } from './maildir.js';

async function* chunks(...parts: string[]) {
  for (const part of parts) yield new TextEncoder().encode(part);
}

async function* failing() {
  yield new TextEncoder().encode('partial');
  throw new Error('client went away');
}

describe('Maildir', () => {
  it('writes through tmp/ into new/ with unique names', async () => {
    const root = join(mkdtempSync(join(tmpdir(), 'maildir-')), 'box');
    const maildir = new Maildir(root);
    await maildir.create();
    const paths = await Promise.all([maildir.deliver(chunks('a', 'b')), maildir.deliver(chunks('c'))]);
    expect(new Set(paths).size).toBe(2);
    expect(readdirSync(join(root, 'tmp'))).toEqual([]);
    expect(readdirSync(join(root, 'new')).sort()).toEqual(
      paths.map((path) => path.slice(join(root, 'new').length + 1)).sort(),
    );
    expect(readFileSync(paths[0] as string, 'utf8')).toBe('ab');
  });

  it('leaves nothing behind when the message fails half-way', async () => {
    const root = mkdtempSync(join(tmpdir(), 'maildir-'));
    const maildir = new Maildir(root);
    await maildir.create();
    await expect(maildir.deliver(failing())).rejects.toThrow('client went away');
    expect(readdirSync(join(root, 'tmp'))).toEqual([]);
    expect(readdirSync(join(root, 'new'))).toEqual([]);
  });

  it('encodes "/" and ":" in the host part (":" starts the info suffix)', () => {
    const name = new Maildir('/unused').uniqueName(1_700_000_000_123);
    expect(name).toMatch(/^1700000000\.M\d+P\d+Q1R[0-9a-f]{16}\./);
    expect(name).not.toMatch(/[/:]/);
  });
});
