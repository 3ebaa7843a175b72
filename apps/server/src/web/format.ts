import type { Address } from './api.js';

export function formatAddress(address: Address | null): string {
  if (address === null) return '(no sender)';
  return address.name === '' ? address.address : `${address.name} <${address.address}>`;
}

export function formatAddresses(addresses: readonly Address[]): string {
  return addresses.map(formatAddress).join(', ');
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** Time today, else date: what an inbox list shows. */
export function formatShortTime(ms: number, nowMs = Date.now()): string {
  const date = new Date(ms);
  const isToday = new Date(nowMs).toDateString() === date.toDateString();
  return isToday
    ? date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })
    : date.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
}

export function formatLongTime(ms: number): string {
  return new Date(ms).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}
