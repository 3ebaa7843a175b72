import { z } from 'zod';

export const suppressionSchema = z.object({
  address: z.string().meta({ description: 'Local part as given, domain lower-cased' }),
  reason: z.string().meta({ description: "The remote's reply that failed the recipient" }),
  createdAt: z.int().meta({ description: 'Epoch milliseconds' }),
  messageId: z.string(),
  deliveryId: z.int(),
});

export const suppressionPageSchema = z.object({
  suppressions: z.array(suppressionSchema),
  nextCursor: z.string().nullable().meta({ description: 'Pass back as `cursor` for the next (older) page' }),
});

export const suppressionRemovedSchema = z.object({ address: z.string(), removed: z.literal(true) });
