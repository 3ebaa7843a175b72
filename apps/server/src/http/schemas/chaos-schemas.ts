import { z } from 'zod';
import { chaosStages } from '../../config/chaos-schema.js';

/**
 * GET and PUT /api/v1/chaos: the faults injected per SMTP stage (config `chaos`). A stage left out
 * has none; PUT replaces every stage at once ({} switches chaos off).
 */
export const chaosFaultWireSchema = z
  .strictObject({
    code: z
      .int()
      .min(400)
      .max(599)
      .optional()
      .meta({ description: 'Reply code; unset: the stage is only delayed' }),
    enhanced: z
      .string()
      .regex(/^[45]\.\d{1,3}\.\d{1,3}$/)
      .optional()
      .meta({ description: 'RFC 3463 enhanced status; default <class>.0.0' }),
    text: z
      .string()
      .min(1)
      .max(400)
      .regex(/^[^\r\n]*$/)
      .default('Fault injected (chaos)'),
    probability: z.number().min(0).max(100).default(100).meta({ description: 'Percent of commands hit' }),
    delayMs: z.int().min(0).max(600_000).default(0).meta({ description: 'Wait before going on or replying' }),
  })
  .refine(
    (fault) =>
      fault.enhanced === undefined || fault.code === undefined || fault.enhanced[0] === String(fault.code)[0],
    { message: 'the enhanced status class must match the reply code', path: ['enhanced'] },
  );

export const chaosSettingsWireSchema = z.strictObject(
  Object.fromEntries(chaosStages.map((stage) => [stage, chaosFaultWireSchema.optional()])) as {
    [Stage in (typeof chaosStages)[number]]: z.ZodOptional<typeof chaosFaultWireSchema>;
  },
);
export type ChaosSettingsWire = z.infer<typeof chaosSettingsWireSchema>;
