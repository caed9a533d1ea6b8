/**
 * This machine's own interfaces: MAC, IPv4 addresses, and whether each
 * address was installed by a DHCP client (iproute2's `dynamic` flag with its
 * lease lifetime). A machine never sees its own MAC in its neighbour table,
 * so these are the only sightings of the inventory host netdoctor runs on.
 */
import { execFile } from 'node:child_process';
import { networkInterfaces } from 'node:os';

export interface OwnAddress {
  ip: string;
  prefix: number;
  /** True when a DHCP client installed it (`dynamic` in `ip addr`); undefined when not known (no iproute2). */
  dynamic?: boolean;
  /** Seconds left of its lease when `dynamic`. */
  validLifetimeS?: number;
}

export interface OwnInterface {
  name: string;
  mac: string;
  addresses: OwnAddress[];
}

/** "Forever" in `ip -j addr`: no lifetime. */
const FOREVER = 4294967295;

interface IpAddrJson {
  ifname?: string;
  address?: string;
  link_type?: string;
  addr_info?: Array<{ family?: string; local?: string; prefixlen?: number; dynamic?: boolean; valid_life_time?: number }>;
}

/** `ip -j addr show`, parsed: ethernet-like interfaces with their IPv4 addresses. */
export function parseIpAddrJson(text: string): OwnInterface[] {
  const out: OwnInterface[] = [];
  for (const l of JSON.parse(text) as IpAddrJson[]) {
    if (!l.ifname || !l.address || l.link_type === 'loopback') continue;
    const addresses: OwnAddress[] = [];
    for (const a of l.addr_info ?? []) {
      if (a.family !== 'inet' || !a.local) continue;
      const dynamic = a.dynamic === true;
      addresses.push({
        ip: a.local,
        prefix: a.prefixlen ?? 32,
        dynamic,
        ...(dynamic && a.valid_life_time !== undefined && a.valid_life_time !== FOREVER ? { validLifetimeS: a.valid_life_time } : {}),
      });
    }
    out.push({ name: l.ifname, mac: l.address.toLowerCase(), addresses });
  }
  return out;
}

/** Node's view (no `dynamic` flag): when iproute2 is missing. */
function fromNode(): OwnInterface[] {
  const out: OwnInterface[] = [];
  for (const [name, list] of Object.entries(networkInterfaces())) {
    const v4 = (list ?? []).filter((a) => a.family === 'IPv4' && !a.internal);
    const mac = (list ?? []).find((a) => !a.internal)?.mac;
    if (!mac || mac === '00:00:00:00:00:00') continue;
    out.push({ name, mac: mac.toLowerCase(), addresses: v4.map((a) => ({ ip: a.address, prefix: Number(a.cidr?.split('/')[1] ?? 32) })) });
  }
  return out;
}

/** This machine's interfaces, from `ip -j addr` (with the DHCP flag), else from Node. */
export async function readOwnInterfaces(opts: { signal?: AbortSignal } = {}): Promise<OwnInterface[]> {
  const text = await new Promise<string | undefined>((resolve) => {
    execFile('ip', ['-j', 'addr', 'show'], { env: { ...process.env, LC_ALL: 'C' }, timeout: 3000, signal: opts.signal, maxBuffer: 4 * 1024 * 1024 }, (err, out) => resolve(err ? undefined : out));
  });
  if (text !== undefined) {
    try {
      return parseIpAddrJson(text);
    } catch {
      // fall through to Node's view
    }
  }
  return fromNode();
}
