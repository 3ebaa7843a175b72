import { usageError } from '../cli-error.js';

const durationUnits: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const sizeUnits: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
};

/** `30` (seconds), `500ms`, `10s`, `2m`, `1h` → milliseconds. */
export function parseDurationMs(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/i.exec(text.trim());
  if (!match) throw usageError(`${flag} '${text}': give a duration such as 30, 500ms, 10s or 2m`);
  const milliseconds = Number(match[1]) * (durationUnits[(match[2] ?? 's').toLowerCase()] ?? 1000);
  if (!(milliseconds > 0)) throw usageError(`${flag} '${text}': the duration must be more than zero`);
  return Math.round(milliseconds);
}

/** `1000`, `10k`, `25M`, `1g` (binary units) → bytes. */
export function parseSizeBytes(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([kmg]?b?)$/i.exec(text.trim());
  if (!match) throw usageError(`${flag} '${text}': give a size such as 2048, 10k or 25M`);
  return Math.round(Number(match[1]) * (sizeUnits[(match[2] ?? '').toLowerCase()] ?? 1));
}

/** A whole number ≥ minimum. */
export function parseInteger(text: string, flag: string, minimum = 1): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < minimum) {
    throw usageError(`${flag} '${text}': give a whole number of at least ${minimum}`);
  }
  return Number(text);
}
