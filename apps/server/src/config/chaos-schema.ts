import { z } from 'zod';
import { parseDuration } from './parse-duration.js';

const duration = z.union([z.string(), z.number()]).transform((value, context) => {
  const durationMs = parseDuration(value);
  if (durationMs === null || durationMs > 10 * 60_000) {
    context.addIssue({ code: 'custom', message: 'expected a duration up to 10m, e.g. "500ms", "5s"' });
    return z.NEVER;
  }
  return durationMs;
});

/** The SMTP stages a fault can be injected at (chaos/chaos-decision.ts). */
export const chaosStages = ['connect', 'helo', 'auth', 'mail', 'rcpt', 'data'] as const;
export type ChaosStage = (typeof chaosStages)[number];

/**
 * One stage's fault: with `probability` percent, wait `delay`, then (when `code` is set) answer
 * with that reply instead of going on. A fault without a code only slows the stage down.
 */
export const chaosFaultSchema = z
  .strictObject({
    /** A 4xx (temporary) or 5xx (permanent) reply code; unset: delay only. */
    code: z.int().min(400).max(599).optional(),
    /** RFC 3463 enhanced status code, its class matching the code's (e.g. 4.3.2 with 451). */
    enhanced: z
      .string()
      .regex(/^[45]\.\d{1,3}\.\d{1,3}$/, 'expected an enhanced status code such as 4.3.2')
      .optional(),
    text: z
      .string()
      .min(1)
      .max(400)
      .regex(/^[^\r\n]*$/, 'one line')
      .default('Fault injected (chaos)'),
    /** Percent of the commands at this stage that get the fault, 0 to 100. */
    probability: z.number().min(0).max(100).default(100),
    delay: duration.default(0),
  })
  .refine(
    (fault) =>
      fault.enhanced === undefined || fault.code === undefined || fault.enhanced[0] === String(fault.code)[0],
    {
      message: 'the enhanced status class must match the reply code (4.x.x with 4xx, 5.x.x with 5xx)',
      path: ['enhanced'],
    },
  );

/**
 * `chaos`: fault injection at the SMTP stages, to test how an application copes with a server that
 * refuses, fails temporarily or is slow (as Mailpit's chaos). Off by default: no stage has a fault.
 * PUT /api/v1/chaos replaces it at run time.
 */
export const chaosSchema = z
  .strictObject(
    Object.fromEntries(chaosStages.map((stage) => [stage, chaosFaultSchema.optional()])) as {
      [Stage in ChaosStage]: z.ZodOptional<typeof chaosFaultSchema>;
    },
  )
  .prefault({});

export type ChaosSettings = z.output<typeof chaosSchema>;
export type ChaosFault = z.output<typeof chaosFaultSchema>;
