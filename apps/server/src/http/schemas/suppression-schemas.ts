import { z } from 'zod';

export const suppressionSchema = z.object({
  address: z.string().meta({ description: 'Local part as given, domain lower-cased' }),
  reason: z.string().meta({ description: "The remote's reply that failed the recipient" }),
  createdAt: z.int().meta({ description: 'Epoch milliseconds' }),
  messageId: z
    .string()
    .nullable()
    .meta({ description: 'The message whose failure added it; null: an operator did' }),
  deliveryId: z.int().nullable(),
});

/** POST /api/v1/suppressions: an operator refuses mail to an address. */
export const suppressionAddRequestSchema = z.strictObject({
  address: z
    .string()
    .max(320)
    .regex(/^[^\s@<>]+@[^\s@<>]+$/, 'expected an address such as user@example.com'),
  reason: z.string().min(1).max(500).optional(),
});

export const suppressionPageSchema = z.object({
  suppressions: z.array(suppressionSchema),
  nextCursor: z.string().nullable().meta({ description: 'Pass back as `cursor` for the next (older) page' }),
});

export const suppressionRemovedSchema = z.object({ address: z.string(), removed: z.literal(true) });

export type Suppression = z.infer<typeof suppressionSchema>;
export type SuppressionPage = z.infer<typeof suppressionPageSchema>;
export type SuppressionAddRequest = z.input<typeof suppressionAddRequestSchema>;
