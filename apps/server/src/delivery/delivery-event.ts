import type { AttemptRecord } from '../queue/delivery-queue.js';
import type { DeliveryStatus } from '../queue/delivery-state.js';

/** What the delivery side tells the event bus (metrics, SSE, webhooks and the UI read it). */
export type DeliveryEvent =
  | {
      readonly type: 'delivery-attempted';
      readonly deliveryId: number;
      readonly messageId: string;
      readonly recipient: string;
      readonly domain: string;
      /** The delivery's status after the attempt. */
      readonly status: DeliveryStatus;
      readonly attempt: AttemptRecord;
    }
  | {
      readonly type: 'report-queued';
      /** The DSN's message id and what it reports. */
      readonly reportId: string;
      readonly originalMessageId: string;
      readonly action: 'failed' | 'delayed' | 'relayed';
      readonly recipients: readonly string[];
    };
