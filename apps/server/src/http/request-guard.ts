import type { HttpBindings } from '@hono/node-server';
import type { Context, MiddlewareHandler } from 'hono';
import type { HostAllowList, LocalEndpoint } from './host-allow-list.js';

const stateChangingMethods = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const bodyMethods = new Set(['POST', 'PUT', 'PATCH']);
/** Liveness probes (Docker, Kubernetes) ask by whatever name they know; the answer holds nothing private. */
const openPaths = new Set(['/healthz']);

/**
 * Refuses what a web page elsewhere could make a browser send:
 * - a Host that does not name this app (DNS rebinding) → 421 Misdirected Request;
 * - a state change from another origin (Origin, Sec-Fetch-Site) → 403;
 * - a POST/PUT/PATCH whose body is not application/json → 415: an HTML form (urlencoded, multipart,
 *   text/plain) can post cross-site without a CORS preflight, a JSON body cannot.
 * DELETE has no body; a browser sends it cross-origin only after a preflight this app never grants,
 * and always with an Origin, which is checked.
 */
export function requestGuard(allowList: HostAllowList): MiddlewareHandler {
  return async (context, next) => {
    if (openPaths.has(context.req.path)) return next();
    const endpoint = localEndpointOf(context);
    const host = context.req.header('host');
    if (endpoint === null || host === undefined || !allowList.allows(host, endpoint, 80)) {
      return context.json(
        { error: `Host ${host ?? '(none)'} is not a name of this server: add it to http.allowedHosts` },
        421,
      );
    }
    const method = context.req.method;
    if (!stateChangingMethods.has(method)) return next();
    const refusal = crossOriginRefusal(context, allowList, endpoint);
    if (refusal !== null) return context.json({ error: refusal }, 403);
    if (bodyMethods.has(method) && !isJson(context.req.header('content-type'))) {
      return context.json({ error: 'Send the body as application/json' }, 415);
    }
    return next();
  };
}

/** Why a state change is refused as cross-origin, or null. A request without Origin is not a browser's. */
function crossOriginRefusal(
  context: Context,
  allowList: HostAllowList,
  endpoint: LocalEndpoint,
): string | null {
  // Fetch Metadata: the browser says where the request comes from; same-site is another port or subdomain.
  const site = context.req.header('sec-fetch-site');
  if (site === 'cross-site' || site === 'same-site') return `Cross-origin request refused (${site})`;
  const origin = context.req.header('origin');
  if (origin === undefined) return null;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return `Origin ${origin} refused`;
  }
  const isHttp = url.protocol === 'http:' || url.protocol === 'https:';
  const defaultPort = url.protocol === 'https:' ? 443 : 80;
  // url.host drops a default port: put the scheme's back so "http://localhost" means port 80.
  if (!isHttp || !allowList.allows(url.host, endpoint, defaultPort)) return `Origin ${origin} refused`;
  return null;
}

/** Our end of the socket, from @hono/node-server's bindings (absent when not served by it: refused). */
function localEndpointOf(context: Context): LocalEndpoint | null {
  const socket = (context.env as Partial<HttpBindings> | undefined)?.incoming?.socket;
  if (socket?.localAddress === undefined || socket.localPort === undefined) return null;
  return { address: socket.localAddress, port: socket.localPort };
}

function isJson(contentType: string | undefined): boolean {
  const mediaType = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  return mediaType === 'application/json';
}
