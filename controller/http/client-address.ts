/**
 * Who is asking: the socket's peer, or — only when that peer is one of the configured reverse
 * proxies — the address the proxies forwarded. X-Forwarded-For is read from the right: each
 * trusted proxy appended the address it saw, so the client is the last entry that is not a
 * trusted proxy. The leftmost entry is whatever the client wrote and is never believed.
 */
import { BlockList, isIP } from 'node:net';

export class TrustedProxies {
  private readonly list = new BlockList();
  private readonly empty: boolean;

  /** Entries are addresses or CIDR ranges (validated by the configuration). */
  constructor(entries: readonly string[]) {
    this.empty = entries.length === 0;
    for (const entry of entries) {
      const [address, bits] = entry.split('/') as [string, string | undefined];
      const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
      if (bits === undefined) this.list.addAddress(address, type);
      else this.list.addSubnet(address, Number(bits), type);
    }
  }

  has(address: string | undefined): boolean {
    if (this.empty || !address) return false;
    const plain = unmapped(address);
    const type = isIP(plain) === 6 ? 'ipv6' : isIP(plain) === 4 ? 'ipv4' : null;
    return type !== null && this.list.check(plain, type);
  }

  /** The client's address for the login guard and the log. */
  clientAddress(peer: string | undefined, forwardedFor: string | string[] | undefined): string {
    let current = unmapped(peer ?? 'unknown');
    if (!this.has(current)) return current;
    const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor ?? '').split(',').map((h) => h.trim()).filter(Boolean);
    while (this.has(current) && hops.length) {
      const hop = unmapped(hops.pop()!);
      if (!isIP(hop)) break; // a garbled entry: the last good address stands
      current = hop;
    }
    return current;
  }

  /** X-Forwarded-Host / -Proto's value when the peer is a trusted proxy (the proxy's own view), else ''. */
  forwardedValue(peer: string | undefined, header: string | string[] | undefined): string {
    if (!this.has(peer)) return '';
    const text = Array.isArray(header) ? header.join(',') : header ?? '';
    return text.split(',').pop()?.trim() ?? '';
  }
}

/** ::ffff:10.0.0.1 (an IPv4 peer on a dual-stack socket) is 10.0.0.1. */
function unmapped(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}
