/**
 * Tags: short labels on captured messages (as Mailpit's), set by a header at receive, by tag rules
 * or through the API. A tag is kept as first written; two tags that differ only in ASCII case are
 * the same tag (the stores compare them case-insensitively).
 */

/** The longest tag kept; longer ones are cut. */
export const maxTagLength = 64;

// Letters, digits, space and a few separators; anything else (commas, quotes, control characters)
// is dropped so a tag is always safe to show and to type into the search box as `tag:name`.
const disallowedCharacters = /[^\p{L}\p{N} ._\-/:+@]/gu;

/** A tag as stored, or null when nothing usable is left of the text. */
export function normalizeTag(text: string): string | null {
  const tag = text
    .replace(disallowedCharacters, '')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, maxTagLength)
    .trim();
  return tag === '' ? null : tag;
}

/** Normalized and without case-insensitive duplicates, first spelling kept, in the order given. */
export function uniqueTags(texts: Iterable<string>): string[] {
  const seen = new Set<string>();
  const tags: string[] = [];
  for (const text of texts) {
    const tag = normalizeTag(text);
    if (tag === null || seen.has(tag.toLowerCase())) continue;
    seen.add(tag.toLowerCase());
    tags.push(tag);
  }
  return tags;
}

/** The tags of a tag header's value: comma-separated, as Mailpit reads X-Tags. */
export function tagsOfHeader(value: string): string[] {
  return uniqueTags(value.split(','));
}
