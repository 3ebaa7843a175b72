const weekdays = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

/**
 * An RFC 5322 §3.3 date-time in UTC, `Sun, 6 Dec 2026 09:02:41 +0000`. The core reads no clock: the
 * caller passes the instant.
 */
export function formatMessageDate(date: Date): string {
  if (Number.isNaN(date.getTime())) throw new RangeError('formatMessageDate: invalid Date');
  const two = (value: number) => String(value).padStart(2, '0');
  return (
    `${weekdays[date.getUTCDay()]}, ${date.getUTCDate()} ${months[date.getUTCMonth()]} ${date.getUTCFullYear()} ` +
    `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} +0000`
  );
}
