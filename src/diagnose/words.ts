/** Small helpers for the plain-words text of findings. */
import type { Config } from '../config/resolve.js';
import { isLinkLocal, isIPv4 } from '../shared/ipv4.js';
import type { RuleContext } from './rule.js';

/** ["a"] → "a"; ["a","b","c"] → "a, b and c". */
export function listing(items: readonly string[], last = 'and'): string {
  if (items.length <= 1) return items[0] ?? '';
  return `${items.slice(0, -1).join(', ')} ${last} ${items[items.length - 1]}`;
}

/** "192.168.1.10 (pi-dns)" when the address is an inventory host's, else the address. */
export function ipName(ctx: RuleContext, ip: string): string {
  const h = ctx.hostByIp(ip);
  return h ? `${ip} (${h.name})` : ip;
}

export function isUsable(ip: string | undefined): ip is string {
  return ip !== undefined && isIPv4(ip) && !isLinkLocal(ip);
}

/** What is configured to use an address: the router's DNS setting, forwards, names. */
export function usersOf(config: Config, ip: string): string[] {
  const out: string[] = [];
  if (config.router.dnsServer === ip) out.push(`the DNS server the router hands out to every device (router.dnsServer)`);
  else if (config.dns.servers.includes(ip)) out.push('the DNS server in dns.servers');
  for (const f of config.router.forwards) {
    if (f.to === ip) out.push(`the router's port forward ${f.proto.toUpperCase()} ${f.port}`);
  }
  const names = Object.entries(config.dns.records).filter(([, v]) => v === ip).map(([k]) => k);
  if (names.length) out.push(`the name${names.length > 1 ? 's' : ''} ${listing(names)}`);
  return out;
}
