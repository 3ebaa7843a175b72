/**
 * Settings per destination domain, as mta.tlsPolicy and mta.destinations write them: `example.com`
 * is that domain, `.example.com` every subdomain of it (not itself), `*` any other domain.
 */
export type DomainMap<T> = Readonly<Record<string, T>>;

/** The entry for `domain`: its own, else the nearest `.parent` entry, else `*`; undefined when none. */
export function lookupByDomain<T>(domain: string, entries: DomainMap<T>): T | undefined {
  const name = domain.toLowerCase().replace(/\.$/, '');
  const exact = entries[name];
  if (exact !== undefined) return exact;
  for (let dot = name.indexOf('.'); dot !== -1; dot = name.indexOf('.', dot + 1)) {
    const covering = entries[name.slice(dot)];
    if (covering !== undefined) return covering;
  }
  return entries['*'];
}
