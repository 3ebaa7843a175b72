import { z } from 'zod';

const ruleText = z.string().min(1);

/**
 * `tags`: how captured messages get tags at receive (capture/message-tags.ts). The header is read
 * as Mailpit reads X-Tags (comma-separated); each rule adds its tags when every condition it gives
 * is contained (case-insensitive) in the message's recipients, sender or subject.
 */
export const tagsSchema = z
  .strictObject({
    /** The header whose comma-separated value tags a message; null reads none. */
    header: z
      .string()
      .regex(/^[!-9;-~]+$/, 'expected a header field name')
      .nullable()
      .default('X-Tags'),
    rules: z
      .array(
        z.strictObject({
          recipient: ruleText.optional(),
          sender: ruleText.optional(),
          subject: ruleText.optional(),
          tags: z.array(z.string().min(1)).min(1),
        }),
      )
      .default([]),
  })
  .prefault({});

export type TagsSettings = z.output<typeof tagsSchema>;
