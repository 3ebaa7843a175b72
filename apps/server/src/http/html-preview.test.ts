import { describe, expect, it } from 'vitest';
import { hasRemoteContent, preparePreviewHtml, previewContentSecurityPolicy } from './html-preview.js';

describe('HTML preview', () => {
  it('blocks remote content and scripts unless remote content is allowed', () => {
    const blocked = previewContentSecurityPolicy(false);
    expect(blocked).toContain("default-src 'none'");
    expect(blocked).toContain('sandbox allow-popups allow-popups-to-escape-sandbox');
    expect(blocked).not.toMatch(/https?:/);
    expect(blocked).not.toContain('script-src');
    expect(previewContentSecurityPolicy(true)).toContain("img-src 'self' data: cid: https: http:");
  });

  it('detects remote references', () => {
    expect(hasRemoteContent('<img src="https://t.example/p.gif">')).toBe(true);
    expect(hasRemoteContent('<div style="background:url(//cdn.example/x.png)">')).toBe(true);
    expect(hasRemoteContent('<img src="cid:logo"><a href="https://example.com">link</a>')).toBe(false);
  });

  it('points cid: references at the attachment and opens links in a new tab', () => {
    const html = preparePreviewHtml('<img src="cid:Logo@Shop"><img src="cid:missing">', {
      messageId: 'M1',
      attachments: [
        {
          index: 2,
          filename: 'logo.png',
          contentType: 'image/png',
          disposition: 'inline',
          contentId: 'logo@shop',
          sizeBytes: 1,
        },
      ],
    });
    expect(html).toBe(
      '<!doctype html><base target="_blank"><img src="/api/v1/messages/M1/attachments/2?inline=1"><img src="cid:missing">',
    );
  });
});
