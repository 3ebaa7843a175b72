import { MessageAbortedError, SmtpReplyError } from '@smtp/server';
import type { Logger } from '../observability/logger.js';
import type { AppMetrics } from '../observability/metrics.js';

/**
 * What a listener throws when storing an accepted message failed, after counting the reject: an
 * aborted message or a policy refusal keeps its own reply; anything else is logged and becomes a
 * temporary 451, so the client keeps the message and retries (RFC 5321 §4.2.5).
 */
export function storageFailure(
  error: unknown,
  context: { readonly metrics: AppMetrics; readonly logger: Logger; readonly id: string },
): Error {
  if (error instanceof MessageAbortedError) {
    context.metrics.rejects.inc({ reason: error.reason === 'too-large' ? 'too-large' : 'protocol' });
    return error;
  }
  if (error instanceof SmtpReplyError) {
    context.metrics.rejects.inc({ reason: 'policy' });
    return error;
  }
  context.metrics.rejects.inc({ reason: 'storage' });
  context.logger.error({ err: error, id: context.id }, 'could not store the message');
  return new SmtpReplyError({
    code: 451,
    enhanced: '4.3.0',
    text: 'Could not store the message, try again later',
  });
}
