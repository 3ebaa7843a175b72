import type { AttemptRecord, DeliveryRecord, OperatorAction } from '../queue/delivery-queue.js';
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
    }
  | {
      /** A message and its deliveries are committed (the 250 follows). */
      readonly type: 'message-queued';
      readonly messageId: string;
      readonly sender: string;
      readonly recipients: readonly string[];
      readonly at: number;
    }
  | {
      /** A transport starts one session for these deliveries of a message (one destination). */
      readonly type: 'attempt-started';
      readonly messageId: string;
      readonly domain: string;
      readonly deliveries: readonly { readonly deliveryId: number; readonly recipient: string }[];
      readonly at: number;
    }
  | {
      /** An operator's action (API, CLI, web UI) changed these deliveries; each shows its new state. */
      readonly type: 'operator-action';
      readonly action: OperatorAction;
      readonly deliveries: readonly DeliveryRecord[];
      readonly at: number;
    }
  | {
      /** Finished messages removed with their deliveries: by mta.retention, or an operator's purge. */
      readonly type: 'messages-purged';
      readonly messageIds: readonly string[];
      readonly by: 'retention' | 'operator';
      readonly at: number;
    };
