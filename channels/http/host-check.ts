import { isIP } from 'node:net';

export interface HostCheckOptions {
  /** Host names the server answers to; an entry without a port matches any port. */
  allowedHosts: string[];
  /**
   * Hosts a browser page may call from besides the served origin itself (e.g. the public name behind a
   * proxy); an entry with a port matches only that port. Loopback names are deliberately not here: a
   * page on http://localhost:3000 is another site than a server on port 8787.
   */
  allowedOrigins?: string[];
}

/**
 * Guards against DNS rebinding and cross-site requests: a browser page on evil.example resolving its
 * name to 127.0.0.1 must not reach a local server, and neither may a page of another site or port, or
 * a sandboxed frame (`Origin: null`). Requests must name an allowed host; a browser Origin must be the
 * served origin exactly (scheme, host and port of the request itself) or an explicitly allowed host.
 * Returns the reason to refuse, or null.
 */
export function createHostCheck(
  options: HostCheckOptions,
): (request: { url: string; host: string | undefined; origin: string | undefined }) => string | null {
  const hosts = new Set(options.allowedHosts.map((h) => h.toLowerCase()));
  const origins = new Set((options.allowedOrigins ?? []).map((h) => h.toLowerCase()));
  const matches = (set: Set<string>, host: string) => set.has(host) || set.has(withoutPort(host));
  return ({ url, host, origin }) => {
    if (!host || !matches(hosts, host.toLowerCase()))
      return `host "${host ?? ''}" is not allowed; add it with --allowed-host`;
    if (origin === undefined) return null;
    if (origin === 'null') return 'requests from an opaque origin (Origin: null) are not allowed';
    let parsed: URL;
    try {
      parsed = new URL(origin);
    } catch {
      return `origin "${origin}" is not a valid origin`;
    }
    const served = servedOrigin(url, host);
    if (parsed.origin === served) return null;
    // An explicitly allowed host: with its port when one was given (URL.host omits a scheme's default port).
    if (origins.has(parsed.host) || origins.has(parsed.hostname)) return null;
    if (parsed.port === '') {
      const defaultPort = parsed.protocol === 'https:' ? '443' : '80';
      if (origins.has(`${parsed.hostname}:${defaultPort}`)) return null;
    }
    return `origin "${origin}" is not allowed: only pages served by this server (${served}) may call it; add other hosts with --allowed-host`;
  };
}

function withoutPort(host: string): string {
  return host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d+$/, '');
}

/** The origin a browser shows for pages this server served: the request's own scheme and Host. */
function servedOrigin(url: string, host: string): string {
  const protocol = new URL(url).protocol;
  try {
    return new URL(`${protocol}//${host}`).origin;
  } catch {
    return `${protocol}//${host.toLowerCase()}`;
  }
}

export const loopbackHosts = ['localhost', '127.0.0.1', '[::1]'];

/**
 * Whether a bind address only accepts connections from this machine, decided from the address itself:
 * 127.0.0.0/8, ::1 (also IPv4-mapped) and `localhost`; any other name counts as reachable by others.
 */
export function isLoopback(address: string): boolean {
  const bare = address.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (bare === 'localhost') return true;
  const family = isIP(bare);
  if (family === 4) return bare.split('.')[0] === '127';
  if (family === 6) {
    // The WHATWG URL parser writes IPv6 in its shortest form: [::1], and ::ffff:127.x.y.z as [::ffff:7fxx:yyzz].
    const normal = new URL(`http://[${bare.replace(/%.*$/, '')}]`).hostname;
    return normal === '[::1]' || /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(normal);
  }
  return false;
}

/** The address in a form a Host header carries: IPv6 in brackets. */
export function hostForm(address: string): string {
  return isIP(address) === 6 ? `[${address}]` : address;
}
