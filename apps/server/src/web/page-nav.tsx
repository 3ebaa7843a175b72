import type { ServerInfo } from './operations-api.js';

export type PageName = 'inbox' | 'queue' | 'suppressions' | 'inbound';

export function pageFromHash(): PageName {
  if (/^#\/queue(\/|$)/.test(location.hash)) return 'queue';
  if (/^#\/suppressions\/?$/.test(location.hash)) return 'suppressions';
  if (/^#\/inbound(\/|$)/.test(location.hash)) return 'inbound';
  return 'inbox';
}

const pages: readonly {
  readonly name: PageName;
  readonly label: string;
  readonly href: string;
  /** Whether this server serves the page's API. */
  readonly isServed: (info: ServerInfo) => boolean;
}[] = [
  { name: 'inbox', label: 'Inbox', href: '#/', isServed: () => true },
  { name: 'queue', label: 'Queue', href: '#/queue', isServed: () => true },
  { name: 'suppressions', label: 'Suppressions', href: '#/suppressions', isServed: () => true },
  { name: 'inbound', label: 'Inbound', href: '#/inbound', isServed: (info) => info.inbound },
];

/** Inbox / Queue / Suppressions / Inbound; only in MTA mode, Inbound only with an mx listener. */
export function PageNav(props: { readonly info: ServerInfo | null; readonly current: PageName }) {
  const info = props.info;
  if (info === null || info.mode !== 'mta') return null;
  return (
    <nav class="pages" aria-label="Pages">
      {pages
        .filter((page) => page.isServed(info))
        .map((page) => (
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
