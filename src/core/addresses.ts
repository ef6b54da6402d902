/** Address spelling shared by the listeners, the probes and the admin API. No sockets here. */

/** `::ffff:127.0.0.1` → `127.0.0.1`; other addresses unchanged. */
export function plainIp(address: string | undefined): string {
  if (address === undefined) return '';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** An address as it goes before `:port` in a URL or a Host header: IPv6 in brackets. */
export function hostForUrl(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}
