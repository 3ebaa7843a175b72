/**
 * A message of about `sizeBytes` bytes: headers, then lines of 76 printable characters (RFC 5322 §2.1.1
 * recommends at most 78), so it passes every 7-bit server and line-length limit.
 */
export function createBenchMessage(options: { from: string; to: string; sizeBytes: number }): Uint8Array {
  const header =
    `From: <${options.from}>\r\nTo: <${options.to}>\r\nSubject: smtp bench\r\n` +
    `Date: ${new Date().toUTCString()}\r\nMessage-ID: <${Date.now()}.${process.pid}@smtp-bench.invalid>\r\n\r\n`;
  const line = `${'0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcd'}\r\n`;
  const bodyBytes = Math.max(0, options.sizeBytes - header.length);
  const lines = Math.max(1, Math.ceil(bodyBytes / line.length));
  return new TextEncoder().encode(header + line.repeat(lines));
}
