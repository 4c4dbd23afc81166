/** Bind addresses versus connectable URLs. */

/** The address a local client connects to for a listener bound to `host` (wildcards become loopback). */
export function connectableHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '::1';
  return host;
}

/** `::1` → `[::1]` for use in a URL; names and IPv4 addresses unchanged. */
export function formatHostForUrl(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
