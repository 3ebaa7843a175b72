import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WebhookEvent } from '../../src/webhooks/webhook-event.js';

export interface ReceivedRequest {
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
  readonly json: { id: string; type: string; createdAt: number; data: Record<string, unknown> };
}

/** A real HTTP receiver on loopback; `answer` decides each request's fate by its number (1 = first). */
export async function startReceiver(answer: (number: number, response: ServerResponse) => void) {
  const requests: ReceivedRequest[] = [];
  const closedUnanswered: number[] = [];
  const waiters: (() => void)[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ headers: request.headers, body, json: JSON.parse(body) });
      const number = requests.length;
      response.on('close', () => {
        if (!response.writableEnded) closedUnanswered.push(number);
      });
      answer(number, response);
      for (const wake of waiters.splice(0)) wake();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    requests,
    closedUnanswered,
    async waitFor(count: number, timeoutMs = 30_000): Promise<ReceivedRequest[]> {
      const deadline = Date.now() + timeoutMs;
      while (requests.length < count) {
        if (Date.now() > deadline) throw new Error(`${requests.length} of ${count} webhook requests arrived`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 100);
        });
      }
      return requests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A receiver that answers 503 while `state.isFailing`, 200 after. */
export async function startFailingReceiver() {
  const state = { isFailing: true };
  const receiver = await startReceiver((_number, response) => {
    response.statusCode = state.isFailing ? 503 : 200;
    response.end();
  });
  return Object.assign(receiver, { state });
}

/** A `received` event for `subject`, the rest empty. */
export function receivedEvent(subject: string): WebhookEvent {
  return {
    type: 'received',
    messageId: subject,
    receivedAt: 0,
    sender: '',
    recipients: [],
    subject,
    sizeBytes: 0,
  };
}
