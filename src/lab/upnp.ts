/**
 * The lab router's UPnP IGD and NAT-PMP/PCP: Debian's miniupnpd 2.3.1 (nftables
 * backend) listening on the LAN bridge, its WAN on wan0. It needs its own
 * nftables chains (as /etc/miniupnpd/nft_init.sh makes them: table inet
 * filter, chains miniupnpd, prerouting_miniupnpd, postrouting_miniupnpd),
 * and keeps the lab's standing mappings in a lease file it reloads at start.
 * miniupnpd withholds a WAN address that is private or reserved (the lab's
 * 203.0.113.0/24 is TEST-NET-3, and 100.64.0.0/10 under cgnat): it answers
 * GetExternalIPAddress with an empty address and NAT-PMP with "network
 * failure" — see docs/lab.md.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { must } from './sys.js';
import { DHCP_CLIENTS, LAN, WAN } from './topology.js';

export const UPNP_HTTP_PORT = 5000;
export const NATPMP_PORT = 5351;
export const MINIUPNPD = '/usr/sbin/miniupnpd';

/** The mappings the lab's router holds from the start (not the VPN port: the lab's fixed forward is that). */
export const LAB_MAPPINGS = [{ proto: 'TCP', port: 8443, to: DHCP_CLIENTS['pi-dns'].ip, toPort: 8443, description: 'pi-dns admin' }] as const;

/** The chains miniupnpd's nftables backend writes into; forwarding stays open as the lab's iptables rules decide. */
export const MINIUPNPD_NFT = `table inet filter {
  chain forward { type filter hook forward priority 0; policy accept; jump miniupnpd; }
  chain miniupnpd { }
  chain prerouting { type nat hook prerouting priority -100; policy accept; jump prerouting_miniupnpd; }
  chain postrouting { type nat hook postrouting priority 100; policy accept; jump postrouting_miniupnpd; }
  chain prerouting_miniupnpd { }
  chain postrouting_miniupnpd { }
}
`;

export function miniupnpdPaths(stateDir: string): { conf: string; leases: string; pid: string } {
  return { conf: join(stateDir, 'router-miniupnpd.conf'), leases: join(stateDir, 'router-miniupnpd.leases'), pid: join(stateDir, 'router-miniupnpd.pid') };
}

export function miniupnpdConf(stateDir: string): string {
  const p = miniupnpdPaths(stateDir);
  return [
    `ext_ifname=${WAN.iface}`,
    `listening_ip=${LAN.bridge}`,
    `http_port=${UPNP_HTTP_PORT}`,
    'enable_upnp=yes',
    'enable_natpmp=yes',
    'secure_mode=yes',
    'system_uptime=no',
    `lease_file=${p.leases}`,
    `presentation_url=http://${LAN.router}/`,
    'friendly_name=netdoctor lab router',
    'uuid=6e657464-6f63-746f-722d-6c6162000001',
    `allow 1024-65535 ${LAN.cidr} 1024-65535`,
    'deny 0-65535 0.0.0.0/0 0-65535',
    '',
  ].join('\n');
}

/** miniupnpd's lease file: `PROTO:EXTPORT:IP:PORT:EXPIRY:DESCRIPTION`, reloaded at start. */
export function labLeases(): string {
  return LAB_MAPPINGS.map((m) => `${m.proto}:${m.port}:${m.to}:${m.toPort}:0:${m.description}\n`).join('');
}

export function miniupnpdArgv(stateDir: string): string[] {
  const p = miniupnpdPaths(stateDir);
  return [MINIUPNPD, '-d', '-f', p.conf, '-P', p.pid];
}

/** The DNAT rules miniupnpd holds, as `PROTO EXTPORT IP:PORT`, read from nftables (not through UPnP): the read-only test's oracle. */
export function parseMiniupnpdChain(nftText: string): string[] {
  const out: string[] = [];
  for (const line of nftText.split('\n')) {
    const m = /@nh,72,8 0x(6|11) th dport (\d+) dnat ip to ([\d.]+:\d+)/.exec(line);
    if (m) out.push(`${m[1] === '6' ? 'TCP' : 'UDP'} ${m[2]} ${m[3]}`);
  }
  return out.sort();
}

/** Writes miniupnpd's config and lease file and (re)creates its nftables chains in the router; returns the argv to start it with. */
export async function prepareMiniupnpd(stateDir: string, routerNs: string): Promise<string[]> {
  const p = miniupnpdPaths(stateDir);
  writeFileSync(p.conf, miniupnpdConf(stateDir));
  writeFileSync(p.leases, labLeases());
  // "table …; delete table …" first: the same ruleset applies whether or not an earlier run left the table.
  await must(['ip', 'netns', 'exec', routerNs, 'nft', '-f', '-'], { input: `table inet filter\ndelete table inet filter\n${MINIUPNPD_NFT}` });
  return miniupnpdArgv(stateDir);
}
