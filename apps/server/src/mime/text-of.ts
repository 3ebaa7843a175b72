const snippetLength = 200;

/** The words of a message for search and the inbox snippet: its text part, or its HTML without markup. */
export function textOf(message: { readonly text: string | null; readonly html: string | null }): string {
  if (message.text !== null) return message.text;
  if (message.html === null) return '';
  return htmlToText(message.html);
}

function htmlToText(html: string): string {
  return html
    .replace(/<(style|script|head)[^>]*>[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&nbsp;/gi, ' ')
    .replace(/&lt;/gi, '<')
    .replace(/&gt;/gi, '>')
    .replace(/&quot;/gi, '"')
    .replace(/&amp;/gi, '&');
}

export function snippetOf(message: { readonly text: string | null; readonly html: string | null }): string {
  // Only the head is needed: normalising a 100 KB body to keep 200 characters costs milliseconds.
  const head =
    message.text !== null
      ? message.text.slice(0, snippetLength * 4)
      : message.html === null
        ? ''
        : htmlToText(message.html.slice(0, 20_000));
  return head.replace(/\s+/g, ' ').trim().slice(0, snippetLength);
}
