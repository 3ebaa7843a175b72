/**
 * Every http(s) URL a message links to or loads: href/src/background attributes of its HTML and
 * URLs written in its text, each once, in order of appearance. Pure.
 */
export interface MessageLink {
  readonly url: string;
  /** Where it was found: an HTML attribute (`a href`, `img src` …) or the text body. */
  readonly source: 'html-link' | 'html-image' | 'html-other' | 'text';
}

const attributePattern =
  /<([a-z][a-z0-9]*)\b[^>]*?\s(href|src|background)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/gi;
const textUrlPattern = /\bhttps?:\/\/[^\s<>"')\]]+/gi;

export function linksOf(message: {
  readonly html: string | null;
  readonly text: string | null;
}): MessageLink[] {
  const links: MessageLink[] = [];
  const seen = new Set<string>();
  const add = (raw: string, source: MessageLink['source']) => {
    const url = decodeEntities(raw.trim());
    if (!/^https?:\/\//i.test(url) || seen.has(url)) return;
    seen.add(url);
    links.push({ url, source });
  };
  if (message.html !== null) {
    for (const match of message.html.matchAll(attributePattern)) {
      const element = (match[1] ?? '').toLowerCase();
      const value = match[3] ?? match[4] ?? match[5] ?? '';
      add(
        value,
        element === 'a' || element === 'area' ? 'html-link' : element === 'img' ? 'html-image' : 'html-other',
      );
    }
  }
  if (message.text !== null) {
    // A sentence's closing punctuation is not part of the URL.
    for (const match of message.text.matchAll(textUrlPattern))
      add(match[0].replace(/[.,;:!?]+$/, ''), 'text');
  }
  return links;
}

function decodeEntities(text: string): string {
  return text
    .replace(/&amp;/gi, '&')
    .replace(/&#x([0-9a-f]+);/gi, (_entity, hex: string) => String.fromCodePoint(Number.parseInt(hex, 16)))
    .replace(/&#(\d+);/g, (_entity, decimal: string) => String.fromCodePoint(Number(decimal)));
}
