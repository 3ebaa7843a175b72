import { z } from 'zod';

/** The tag resources on the wire (capture/message-tags.ts says what a tag may hold). */

const tagText = z.string().min(1).max(200);

/** PUT /messages/{id}/tags: the message's tags from now on ([] removes them all). */
export const tagsUpdateSchema = z.strictObject({
  tags: z.array(tagText).max(100),
});

/** PUT /messages/{id}/tags: the tags as stored (normalized, sorted). */
export const messageTagsSchema = z.object({ id: z.string(), tags: z.array(z.string()) });

/** GET /tags: every tag in use. */
export const tagListSchema = z.object({
  tags: z.array(z.object({ name: z.string(), messageCount: z.int().min(1) })),
});

/** PUT /tags/{name}: rename the tag on every message (merging with an existing tag of that name). */
export const tagRenameSchema = z.strictObject({ name: tagText });

/** PUT and DELETE /tags/{name}: how many messages carried the tag. */
export const tagChangeResultSchema = z.object({ messageCount: z.int().min(0) });
