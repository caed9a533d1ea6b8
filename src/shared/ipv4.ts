/**
 * IPv4 address arithmetic shared by config validation, the sweep and the
 * rules. Addresses are kept as dotted strings at every boundary (config,
 * observations, JSON); numbers only live inside these functions.
 */

const OCTET = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4 = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);

export function isIPv4(text: string): boolean {
  return IPV4.test(text);
}

export function ipToInt(ip: string): number {
  if (!isIPv4(ip)) throw new RangeError(`not an IPv4 address: ${JSON.stringify(ip)}`);
  return ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export interface Subnet {
  /** Network address, e.g. 192.168.1.0 */
  network: string;
  prefix: number;
  /** `192.168.1.0/24` */
  cidr: string;
}

/** Parses `a.b.c.d/n`; the host bits may be set (`192.168.1.7/24` → 192.168.1.0/24). */
export function parseCidr(text: string): Subnet | undefined {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(text.trim());
  if (!m || !isIPv4(m[1])) return undefined;
  const prefix = Number(m[2]);
  if (prefix > 32) return undefined;
  return subnetOf(m[1], prefix);
}

export function subnetOf(ip: string, prefix: number): Subnet {
  const mask = prefixToMaskInt(prefix);
  const network = intToIp((ipToInt(ip) & mask) >>> 0);
  return { network, prefix, cidr: `${network}/${prefix}` };
}

function prefixToMaskInt(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export function prefixToMask(prefix: number): string {
  return intToIp(prefixToMaskInt(prefix));
}

/** Prefix length of a dotted netmask, or undefined when the mask is not contiguous. */
export function maskToPrefix(mask: string): number | undefined {
  if (!isIPv4(mask)) return undefined;
  const n = ipToInt(mask);
  for (let p = 0; p <= 32; p++) if (prefixToMaskInt(p) === n) return p;
  return undefined;
}

export function inSubnet(ip: string, subnet: Subnet): boolean {
  if (!isIPv4(ip)) return false;
  const mask = prefixToMaskInt(subnet.prefix);
  return ((ipToInt(ip) & mask) >>> 0) === ipToInt(subnet.network);
}

export function broadcastOf(subnet: Subnet): string {
  const mask = prefixToMaskInt(subnet.prefix);
  return intToIp((ipToInt(subnet.network) | (~mask >>> 0)) >>> 0);
}

/** Usable host addresses of a subnet (network and broadcast excluded for prefixes < 31). */
export function hostAddresses(subnet: Subnet): string[] {
  const start = ipToInt(subnet.network);
  const size = 2 ** (32 - subnet.prefix);
  if (subnet.prefix >= 31) return Array.from({ length: size }, (_, i) => intToIp(start + i));
  return Array.from({ length: size - 2 }, (_, i) => intToIp(start + 1 + i));
}

export const LINK_LOCAL: Subnet = { network: '169.254.0.0', prefix: 16, cidr: '169.254.0.0/16' };
/** RFC 6598 shared address space: a WAN address here means carrier-grade NAT. */
export const SHARED_CGNAT: Subnet = { network: '100.64.0.0', prefix: 10, cidr: '100.64.0.0/10' };

export function isLinkLocal(ip: string): boolean {
  return inSubnet(ip, LINK_LOCAL);
}

export function isPrivate(ip: string): boolean {
  return ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'].some((c) => inSubnet(ip, parseCidr(c)!));
}

/** PTR query name for an address: 10.1.168.192.in-addr.arpa */
export function reverseName(ip: string): string {
  return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
}

/**
 * Linux interface names: 1-15 bytes, no whitespace, slash or colon, and not
 * starting with "-" so a name can never be read as a command-line option.
 */
const INTERFACE_NAME = /^[^\s/:-][^\s/:]{0,14}$/;

export function isInterfaceName(text: string): boolean {
  return INTERFACE_NAME.test(text);
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;

export function isMac(text: string): boolean {
  return MAC.test(text);
}

/** Lower-case, colon-separated; accepts `-` separators too. */
export function normalizeMac(text: string): string {
  return text.trim().toLowerCase().replace(/-/g, ':');
}

export function compareIp(a: string, b: string): number {
  return ipToInt(a) - ipToInt(b);
}
