/**
 * What the machine itself says about its network, read from files the kernel
 * and resolver keep — never by sending a packet. These fill the keys a config
 * leaves out, and the first-run screen shows them.
 */
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { isIPv4, maskToPrefix } from '../shared/ipv4.js';

export interface MachineFacts {
  /** Interface of the default route (e.g. eth0). */
  defaultInterface?: string;
  /** Gateway of the default route. */
  gateway?: string;
  /** Nameservers from /etc/resolv.conf, IPv4 only, in order. */
  resolvers: string[];
  /** IPv4 address, prefix and MAC of each up, non-loopback interface. */
  interfaces: Record<string, { address: string; prefix: number; mac: string }>;
}

/**
 * The default route from /proc/net/route: the row with destination 0 and the
 * lowest metric. Addresses there are little-endian hex.
 */
export function parseProcNetRoute(text: string): { interface: string; gateway: string } | undefined {
  let best: { interface: string; gateway: string; metric: number } | undefined;
  for (const line of text.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 8) continue;
    const [iface, dest, gw, , , , metric, mask] = cols;
    if (dest !== '00000000' || mask !== '00000000') continue;
    const m = Number(metric);
    if (!best || m < best.metric) best = { interface: iface, gateway: hexLeToIp(gw), metric: m };
  }
  return best && { interface: best.interface, gateway: best.gateway };
}

function hexLeToIp(hex: string): string {
  const n = Number.parseInt(hex, 16) >>> 0;
  return [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24].join('.');
}

export function parseResolvConf(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m && isIPv4(m[1]) && !out.includes(m[1])) out.push(m[1]);
  }
  return out;
}

function readOr(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

export function readMachineFacts(): MachineFacts {
  const route = parseProcNetRoute(readOr('/proc/net/route'));
  const interfaces: MachineFacts['interfaces'] = {};
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    const v4 = addrs?.find((a) => a.family === 'IPv4' && !a.internal);
    if (!v4) continue;
    const prefix = maskToPrefix(v4.netmask);
    if (prefix === undefined) continue;
    interfaces[name] = { address: v4.address, prefix, mac: v4.mac };
  }
  return {
    defaultInterface: route?.interface,
    gateway: route?.gateway,
    resolvers: parseResolvConf(readOr('/etc/resolv.conf')),
    interfaces,
  };
}
