/**
 * Guards against DNS rebinding: a browser page on evil.example resolving its name to 127.0.0.1 must
 * not reach a local server. Requests must name an allowed host, and a browser Origin must be one too.
 */
export function createHostCheck(
  allowedHosts: string[],
): (host: string | undefined, origin: string | undefined) => string | null {
  const allowed = new Set(allowedHosts.map((h) => h.toLowerCase()));
  const hostAllowed = (hostHeader: string) => {
    const host = hostHeader.toLowerCase();
    if (allowed.has(host)) return true;
    const withoutPort = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d+$/, '');
    return allowed.has(withoutPort);
  };
  return (host, origin) => {
    if (!host || !hostAllowed(host)) return `host "${host ?? ''}" is not allowed; add it with --allowed-host`;
    if (origin && origin !== 'null') {
      let originHost: string;
      try {
        originHost = new URL(origin).host;
      } catch {
        return `origin "${origin}" is not a valid origin`;
      }
      if (!hostAllowed(originHost)) return `origin "${origin}" is not allowed; add its host with --allowed-host`;
    }
    return null;
  };
}

export const loopbackHosts = ['localhost', '127.0.0.1', '[::1]'];

export function isLoopback(address: string): boolean {
  return address === 'localhost' || address === '::1' || address.startsWith('127.');
}
