/**
 * The lab's address plan: the seed's home network, fixed so that tests,
 * benchmarks and `netdoctor lab config` can all rely on it.
 *
 *   pi-dns ─┐                                   ┌─ vps 198.51.100.20
 *   pi-vpn ─┼─ br0 router ─wan0── br-wan isp ──┘
 *   client ─┘ 192.168.1.1  203.0.113.10   203.0.113.1 / .53
 */

export const NODES = ['router', 'pi-dns', 'pi-vpn', 'client', 'isp', 'vps'] as const;
/** Nodes that exist only while a fault is on. */
export const FAULT_NODES = ['rogue', 'cgnat'] as const;
export type LabNode = (typeof NODES)[number] | (typeof FAULT_NODES)[number];
export const ALL_NODES: readonly LabNode[] = [...NODES, ...FAULT_NODES];

export function isLabNode(name: string): name is LabNode {
  return (ALL_NODES as readonly string[]).includes(name);
}

export const LAN = {
  cidr: '192.168.1.0/24',
  prefix: 24,
  router: '192.168.1.1',
  bridge: 'br0',
  poolStart: '192.168.1.100',
  poolEnd: '192.168.1.199',
  domain: 'home',
  leaseTime: '12h',
} as const;

/** The machines that get their address through DHCP; the router reserves these. */
export const DHCP_CLIENTS = {
  'pi-dns': { mac: 'b8:27:eb:00:00:10', ip: '192.168.1.10', port: 'lan-pidns' },
  'pi-vpn': { mac: 'b8:27:eb:00:00:20', ip: '192.168.1.20', port: 'lan-pivpn' },
  client: { mac: 'dc:a6:32:00:00:99', ip: '192.168.1.50', port: 'lan-client' },
} as const;
export type DhcpClientNode = keyof typeof DHCP_CLIENTS;
export const PIS = ['pi-dns', 'pi-vpn'] as const;

export const LOCAL_NAMES: Record<string, string> = {
  'pi-dns.home': '192.168.1.10',
  'pi-vpn.home': '192.168.1.20',
  'router.home': '192.168.1.1',
  'graphite.home': '192.168.1.10',
};

export const WAN = {
  iface: 'wan0',
  /** The router's end of the WAN link, inside the isp's bridge. */
  ispPort: 'r-wan',
  ispBridge: 'br-wan',
  prefix: 24,
  routerIp: '203.0.113.10',
  /** The router's address once the ddns-stale fault has moved it. */
  routerIpMoved: '203.0.113.11',
  ispIp: '203.0.113.1',
  resolver: '203.0.113.53',
  webIp: '203.0.113.80',
} as const;

export const VPS = { ispIface: 'vps0', ispIp: '198.51.100.1', ip: '198.51.100.20', prefix: 24 } as const;

export const CGNAT = {
  /** The router's WAN address behind the carrier-grade NAT (RFC 6598 shared space). */
  routerIp: '100.64.0.10',
  gatewayIp: '100.64.0.1',
  prefix: 10,
  publicIp: '203.0.113.99',
  ispPort: 'cgn0',
} as const;

export const ROGUE = {
  ip: '192.168.1.254',
  mac: '02:6e:64:00:00:fe',
  port: 'lan-rogue',
  poolStart: '192.168.1.200',
  poolEnd: '192.168.1.250',
} as const;

export const DDNS = { hostname: 'home.dyn.example.net', zone: 'dyn.example.net', ns: 'ns1.dyn.example.net' } as const;
export const EXTERNAL_NAMES: Record<string, string> = { 'example.com': WAN.webIp, 'www.example.com': WAN.webIp };

export const VPN = { port: 1194, tlsAuthPort: 1195, digest: 'SHA1', serverDirection: 0 } as const;

export const STATE_ROOT = '/run/netdoctor-lab';

/** Names may become part of file paths and namespace names: keep them plain and short. */
export const PREFIX_PATTERN = /^[a-z][a-z0-9]{0,11}$/;

export function nsName(prefix: string, node: LabNode): string {
  return `${prefix}-${node}`;
}

/**
 * The link-local address a Pi falls back to without a lease. dhcpcd seeds
 * its IPv4LL choice from the MAC, so the same Pi always lands on the same
 * 169.254.x.y; this does the same with a small hash, avoiding the reserved
 * first and last /24 of 169.254/16 (RFC 3927).
 */
export function linkLocalFor(mac: string): string {
  let h = 0x811c9dc5;
  for (const ch of mac.toLowerCase()) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  const n = h % (254 * 256);
  return `169.254.${1 + (n >> 8)}.${n & 255}`;
}
