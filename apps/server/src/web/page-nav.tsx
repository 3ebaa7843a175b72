import type { ServerInfo } from './operations-api.js';

export type PageName = 'inbox' | 'queue' | 'suppressions';

export function pageFromHash(): PageName {
  if (/^#\/queue(\/|$)/.test(location.hash)) return 'queue';
  if (/^#\/suppressions\/?$/.test(location.hash)) return 'suppressions';
  return 'inbox';
}

const pages: readonly { readonly name: PageName; readonly label: string; readonly href: string }[] = [
  { name: 'inbox', label: 'Inbox', href: '#/' },
  { name: 'queue', label: 'Queue', href: '#/queue' },
  { name: 'suppressions', label: 'Suppressions', href: '#/suppressions' },
];

/** Inbox / Queue / Suppressions; the last two only in MTA mode, where their API is served. */
export function PageNav(props: { readonly mode: ServerInfo['mode'] | null; readonly current: PageName }) {
  if (props.mode !== 'mta') return null;
  return (
    <nav class="pages" aria-label="Pages">
      {pages.map((page) => (
        <a
          key={page.name}
          href={page.href}
          class={`page-link${page.name === props.current ? ' is-current' : ''}`}
          aria-current={page.name === props.current ? 'page' : undefined}
        >
          {page.label}
        </a>
      ))}
    </nav>
  );
}
