/**
 * How this machine's own address on an interface was obtained: from DHCP
 * (a `dynamic` address with a lease lifetime, or a DHCP client's lease file
 * naming it) or set by hand. Read from `ip -j addr` and lease files, never by
 * sending a packet. It is the evidence that a DHCP server is expected on the
 * segment when the config does not list one (docs/rules.md, dhcp-server-missing).
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface AddressOrigin {
  /** `dhcp`: evidence that a DHCP client got the address; `static`: an address with no lease; `unknown`: no IPv4 address or `ip` failed. */
  origin: 'dhcp' | 'static' | 'unknown';
  address?: string;
  /** One line: what was seen, e.g. "192.168.1.5/24 on eth0 is dynamic (lease valid 3599 s more)". */
  evidence: string;
}

/** Directories where DHCP clients keep leases: dhclient, dhcpcd, NetworkManager, systemd-networkd. */
export const LEASE_DIRS = ['/var/lib/dhcp', '/var/lib/dhclient', '/var/lib/dhcpcd', '/var/lib/dhcpcd5', '/var/lib/NetworkManager', '/run/systemd/netif/leases'];

const FOREVER = 4294967295;

interface AddrInfo { family?: string; local?: string; prefixlen?: number; dynamic?: boolean; valid_life_time?: number }

/** Judge from `ip -j -4 addr show dev IFACE` output and the lease files (name → text) that mention the interface. */
export function parseAddressOrigin(iface: string, ipJson: string, leases: ReadonlyMap<string, string>): AddressOrigin {
  let links: Array<{ ifname?: string; addr_info?: AddrInfo[] }> = [];
  try {
    const parsed: unknown = JSON.parse(ipJson);
    if (Array.isArray(parsed)) links = parsed as typeof links;
  } catch {
    return { origin: 'unknown', evidence: `could not read the addresses of ${iface} (ip -j addr gave no JSON)` };
  }
  const addrs = links.filter((l) => l.ifname === iface).flatMap((l) => l.addr_info ?? []).filter((a) => a.family === 'inet' && a.local);
  const first = addrs[0];
  if (!first?.local) return { origin: 'unknown', evidence: `${iface} has no IPv4 address` };
  const dynamic = addrs.find((a) => a.dynamic === true || (a.valid_life_time !== undefined && a.valid_life_time < FOREVER));
  if (dynamic?.local) {
    const left = dynamic.valid_life_time !== undefined && dynamic.valid_life_time < FOREVER ? ` (lease valid ${dynamic.valid_life_time} s more)` : '';
    return { origin: 'dhcp', address: dynamic.local, evidence: `${dynamic.local}/${dynamic.prefixlen} on ${iface} is dynamic${left}: a DHCP client got it` };
  }
  for (const [file, text] of leases) {
    const named = addrs.find((a) => a.local && text.includes(a.local));
    if (named?.local) return { origin: 'dhcp', address: named.local, evidence: `the lease file ${file} names ${named.local}, the address of ${iface}` };
  }
  return { origin: 'static', address: first.local, evidence: `${first.local}/${first.prefixlen} on ${iface} is permanent (no lease lifetime) and no DHCP client's lease file names it: set by hand` };
}

/** Lease files whose name mentions the interface (or that are systemd-networkd's, named by index), with their text. */
function leaseFiles(iface: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const dir of LEASE_DIRS) {
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      if (!name.includes(iface) && dir !== '/run/systemd/netif/leases') continue;
      try {
        out.set(join(dir, name), readFileSync(join(dir, name), 'utf8').slice(0, 65536));
      } catch {
        // unreadable (not root): no evidence either way
      }
    }
  }
  return out;
}

/** How this machine got its address on `iface`. */
export function readAddressOrigin(iface: string): Promise<AddressOrigin> {
  return new Promise((resolve) => {
    execFile('ip', ['-j', '-4', 'addr', 'show', 'dev', iface], { env: { ...process.env, LC_ALL: 'C' }, timeout: 2000 }, (err, out) => {
      if (err) resolve({ origin: 'unknown', evidence: `could not read the addresses of ${iface}: ${err.message.split('\n')[0]}` });
      else resolve(parseAddressOrigin(iface, out, leaseFiles(iface)));
    });
  });
}
