import type { AttachmentMetadata } from '../mime/parsed-message.js';

/**
 * The preview is served from its own URL into `<iframe sandbox>` without allow-scripts or
 * allow-same-origin, AND with a CSP that repeats the sandbox, so even opened directly in a tab the
 * message cannot run script or touch the app's origin. Remote content (tracking pixels, web fonts,
 * remote CSS) is blocked unless the user asks for it.
 */
export function previewContentSecurityPolicy(allowRemoteContent: boolean): string {
  const remote = allowRemoteContent ? ' https: http:' : '';
  return [
    "default-src 'none'",
    `img-src 'self' data: cid:${remote}`,
    `style-src 'unsafe-inline'${remote}`,
    `font-src data:${remote}`,
    `media-src data:${remote}`,
    "form-action 'none'",
    "base-uri 'none'",
    'sandbox allow-popups allow-popups-to-escape-sandbox',
  ].join('; ');
}

const remoteReference =
  /\b(?:src|background|srcset|poster)\s*=\s*["']?\s*(?:https?:)?\/\/|url\(\s*["']?\s*(?:https?:)?\/\//i;

/** Whether blocking remote content hides something: the UI offers "show remote content" only then. */
export function hasRemoteContent(html: string): boolean {
  return remoteReference.test(html);
}

/**
 * Points `cid:` references at the attachment download URL so inline images show, and opens links
 * in a new tab (a link followed inside the sandbox would load a site into the frame).
 */
export function preparePreviewHtml(
  html: string,
  options: { readonly messageId: string; readonly attachments: readonly AttachmentMetadata[] },
): string {
  const byContentId = new Map(
    options.attachments
      .filter((attachment) => attachment.contentId !== null)
      .map((attachment) => [attachment.contentId?.toLowerCase(), attachment.index]),
  );
  const rewritten = html.replace(/\bcid:([^"'\s)>]+)/gi, (whole, contentId: string) => {
    const index = byContentId.get(decodeURIComponent(contentId).toLowerCase());
    return index === undefined
      ? whole
      : `/api/v1/messages/${encodeURIComponent(options.messageId)}/attachments/${index}?inline=1`;
  });
  return `<!doctype html><base target="_blank">${rewritten}`;
}
