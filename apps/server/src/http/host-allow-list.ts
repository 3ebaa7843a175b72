import { normalizeHostName, parseAuthority } from '../config/parse-authority.js';

/** The connection a request arrived on: the address and port of our end of the socket. */
export interface LocalEndpoint {
  readonly address: string;
  readonly port: number;
}

export interface HostAllowListOptions {
  /** http.host: the address the listener is bound to. */
  readonly bindHost: string;
  /** http.allowedHosts: more names (any port) or name:port pairs, e.g. a reverse proxy's public name. */
  readonly extraHosts: readonly string[];
}

/**
 * Which Host (and Origin) authorities name this app, against DNS rebinding: a page on an
 * attacker's name that re-resolves to 127.0.0.1 reaches the listener with the attacker's name in
 * Host, so only names that are ours are answered.
 *
 * Always ours, on the port the request came in on: localhost, 127.0.0.1, [::1], http.host, and the
 * address this very connection reached (an IP literal is never a rebinding vector: the browser
 * connected to exactly that address). With a wildcard http.host (0.0.0.0, ::) the last rule covers
 * every interface address of the machine without listing them. Names from http.allowedHosts match
 * any port unless written name:port (a TLS proxy in front sends Host without a port).
 */
export class HostAllowList {
  readonly #ownNames: ReadonlySet<string>;
  readonly #anyPortNames: ReadonlySet<string>;
  readonly #exactAuthorities: ReadonlySet<string>;

  constructor(options: HostAllowListOptions) {
    const own = new Set(['localhost', '127.0.0.1', '::1']);
    const bindHost = normalizeHostName(options.bindHost);
    if (!isWildcard(bindHost)) own.add(bindHost);
    this.#ownNames = own;
    const anyPort = new Set<string>();
    const exact = new Set<string>();
    for (const entry of options.extraHosts) {
      const authority = parseAuthority(entry);
      if (authority === null) throw new Error(`http.allowedHosts: '${entry}' is not a host or host:port`);
      if (authority.port === null) anyPort.add(authority.name);
      else exact.add(`${authority.name}:${authority.port}`);
    }
    this.#anyPortNames = anyPort;
    this.#exactAuthorities = exact;
  }

  /** Host header value (or an Origin's authority), e.g. "localhost:8025"; defaultPort when it has none. */
  allows(authorityText: string, endpoint: LocalEndpoint, defaultPort: number): boolean {
    const authority = parseAuthority(authorityText);
    if (authority === null) return false;
    const port = authority.port ?? defaultPort;
    if (this.#anyPortNames.has(authority.name)) return true;
    if (this.#exactAuthorities.has(`${authority.name}:${port}`)) return true;
    if (port !== endpoint.port) return false;
    return this.#ownNames.has(authority.name) || authority.name === normalizeHostName(endpoint.address);
  }
}

function isWildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::' || address === '';
}
