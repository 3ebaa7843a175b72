import { z } from 'zod';

/** PATCH /messages/{id}: set the read flag; the answer echoes it. */
export const readFlagUpdateSchema = z.strictObject({ isRead: z.boolean() });

export const readFlagSchema = z.object({ id: z.string(), isRead: z.boolean() });

/** POST /messages/read: the body is an empty JSON object (JSON only: no cross-site form posts). */
export const markAllReadRequestSchema = z.strictObject({});

/** POST /messages/read: how many were unread. */
export const markAllReadResultSchema = z.object({ updated: z.int().min(0) });

/** DELETE /messages: how many were deleted. */
export const deleteAllResultSchema = z.object({ deleted: z.int().min(0) });
