import { createHmac } from 'node:crypto';

/**
 * The X-Smtp-Signature value: `sha256=` and the hex HMAC-SHA256 of `<timestamp>.<body>` with the
 * webhook's secret. The timestamp (X-Smtp-Timestamp, Unix seconds) is signed too, so a receiver
 * can refuse an old request replayed with its valid signature (as Stripe's and Slack's do).
 */
export function webhookSignature(secret: string, timestampSeconds: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex')}`;
}
