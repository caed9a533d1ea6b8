/**
 * Fix builders: the exact commands and files that put things right, filled in
 * from the config and what the run saw. Every value in a snippet comes from
 * the config or an observation; when one is not known, the snippet leaves
 * that part out and a step says what to add — a snippet never carries a
 * placeholder a user could paste by mistake.
 */
import type { Config } from '../config/resolve.js';
import type { HostConfig } from '../config/schema.js';
import type { Observation } from '../probes/types.js';
import { inSubnet, intToIp, ipToInt, isIPv4, maskToPrefix, prefixToMask, subnetOf, type Subnet } from '../shared/ipv4.js';
import { dataOf, type DhcpOfferData } from './observed.js';
import type { Fix } from './types.js';

/** Raspberry Pi OS names the Pi's Ethernet port eth0 and NetworkManager's first wired profile "Wired connection 1". */
export const PI_IFACE = 'eth0';
export const NM_CONNECTION = 'Wired connection 1';

export interface LanFacts {
  prefix: number;
  /** False when neither `subnet` nor a DHCP offer said the prefix and /24 is assumed. */
  prefixKnown: boolean;
  mask: string;
  subnet?: Subnet;
  /** The router (default gateway) address. */
  gateway?: string;
  /** The DNS server devices should use: `router.dnsServer`, else the first of `dns.servers`. */
  dns?: string;
}

export function lanFacts(config: Config, offers: readonly Observation[]): LanFacts {
  let prefix = config.subnet?.prefix;
  if (prefix === undefined) {
    for (const o of offers) {
      const mask = dataOf<DhcpOfferData>(o).subnetMask;
      const p = typeof mask === 'string' ? maskToPrefix(mask) : undefined;
      if (p !== undefined && o.status === 'ok') {
        prefix = p;
        break;
      }
    }
  }
  const known = prefix !== undefined;
  const p = prefix ?? 24;
  const anchor = config.subnet?.network ?? config.router.ip ?? config.hosts[0]?.ip;
  return {
    prefix: p,
    prefixKnown: known,
    mask: prefixToMask(p),
    subnet: config.subnet ?? (anchor ? subnetOf(anchor, p) : undefined),
    gateway: config.router.ip,
    dns: config.router.dnsServer ?? config.dns.servers[0],
  };
}

function assumedPrefixStep(net: LanFacts): string[] {
  return net.prefixKnown
    ? []
    : [`This assumes a /${net.prefix} network (netmask ${net.mask}); if yours differs, set subnet: in netdoctor.yaml and run netdoctor again.`];
}

function routerPage(config: Config): string {
  return config.router.ip ? `the router's admin page (http://${config.router.ip}/)` : "your router's admin page";
}

/** Static address on the Pi, NetworkManager (Raspberry Pi OS bookworm and later). */
export function nmcliStaticFix(host: HostConfig, net: LanFacts, reachVia?: string): Fix {
  const props = [`ipv4.method manual`, `ipv4.addresses ${host.ip}/${net.prefix}`];
  if (net.gateway) props.push(`ipv4.gateway ${net.gateway}`);
  const dns = net.dns ?? net.gateway;
  if (dns) props.push(`ipv4.dns ${dns}`);
  // Split over continuation lines so the command stays readable at 80 columns and still pastes as one.
  const lines = [`sudo nmcli connection modify "${NM_CONNECTION}" \\`];
  for (let i = 0; i < props.length; i += 2) {
    const last = i + 2 >= props.length;
    lines.push(`  ${props.slice(i, i + 2).join(' ')}${last ? '' : ' \\'}`);
  }
  lines.push(`sudo nmcli connection up "${NM_CONNECTION}"`);
  return {
    title: `Give ${host.name} the static address ${host.ip} (Raspberry Pi OS bookworm or later: NetworkManager)`,
    steps: [
      `Log in to ${host.name}${reachVia ? ` (SSH to ${reachVia} if you can reach it, else keyboard and screen)` : ' (keyboard and screen if it cannot be reached over the network)'}.`,
      `Check the name of its wired connection: nmcli -t -f NAME,DEVICE connection show (on ${PI_IFACE} it is usually "${NM_CONNECTION}"; use yours in the commands if it differs).`,
      `Run the commands below: ${host.name} then keeps ${host.ip} whether or not a DHCP server answers.`,
      ...(net.gateway ? [] : ['Add ipv4.gateway with your router\'s address to the modify command (router.ip is not known to netdoctor).']),
      ...assumedPrefixStep(net),
      `Check: ip -4 addr show ${PI_IFACE} lists ${host.ip}/${net.prefix}.`,
    ],
    snippet: { file: `run on ${host.name}`, language: 'sh', text: lines.join('\n') },
  };
}

/** Static address on the Pi, dhcpcd (Raspberry Pi OS before bookworm). */
export function dhcpcdStaticFix(host: HostConfig, net: LanFacts): Fix {
  const lines = [`interface ${PI_IFACE}`, `static ip_address=${host.ip}/${net.prefix}`];
  if (net.gateway) lines.push(`static routers=${net.gateway}`);
  const dns = net.dns ?? net.gateway;
  if (dns) lines.push(`static domain_name_servers=${dns}`);
  return {
    title: `Give ${host.name} the static address ${host.ip} (older Raspberry Pi OS, before bookworm: dhcpcd)`,
    steps: [
      `On ${host.name}, append the block below to /etc/dhcpcd.conf (sudo nano /etc/dhcpcd.conf).`,
      ...(net.gateway ? [] : ['Add a line static routers= with your router\'s address (router.ip is not known to netdoctor).']),
      ...assumedPrefixStep(net),
      'Apply it: sudo systemctl restart dhcpcd (or reboot).',
      `Check: ip -4 addr show ${PI_IFACE} lists ${host.ip}/${net.prefix}.`,
    ],
    snippet: { file: '/etc/dhcpcd.conf', language: 'conf', text: lines.join('\n') },
  };
}

/** Both ways of pinning a Pi's address, newest OS first. */
export function staticAddressFixes(host: HostConfig, net: LanFacts, reachVia?: string): Fix[] {
  return [nmcliStaticFix(host, net, reachVia), dhcpcdStaticFix(host, net)];
}

/** A DHCP pool in the middle of the subnet: .100–.199 on a /24, as most home routers do. */
export function dhcpPool(subnet: Subnet): { start: string; end: string } | undefined {
  if (subnet.prefix > 29) return undefined;
  const size = 2 ** (32 - subnet.prefix);
  const base = ipToInt(subnet.network);
  return {
    start: intToIp(base + Math.floor((size * 100) / 256)),
    end: intToIp(base + Math.floor((size * 200) / 256) - 1),
  };
}

/** dnsmasq on a Pi takes over DHCP, with every inventory host pinned by MAC. */
export function dnsmasqTakeOverFix(config: Config, server: HostConfig, net: LanFacts): Fix | undefined {
  const subnet = net.subnet && inSubnet(server.ip, net.subnet) ? net.subnet : subnetOf(server.ip, net.prefix);
  const pool = dhcpPool(subnet);
  if (!pool) return undefined;
  const lines = [
    `# DHCP for ${subnet.cidr} while the router's DHCP server is off`,
    `dhcp-range=${pool.start},${pool.end},${net.mask},12h`,
  ];
  if (net.gateway) lines.push(`dhcp-option=option:router,${net.gateway}`);
  const dns = net.dns ?? server.ip;
  lines.push(`dhcp-option=option:dns-server,${dns}`);
  for (const h of config.hosts) {
    if (inSubnet(h.ip, subnet)) lines.push(`dhcp-host=${h.mac},${h.name},${h.ip}`);
  }
  lines.push('dhcp-authoritative');
  return {
    title: `Let dnsmasq on ${server.name} hand out addresses, with fixed ones for ${config.hosts.map((h) => h.name).join(', ')}`,
    steps: [
      `Only while the router's DHCP server stays off: two DHCP servers on one LAN hand out conflicting leases.`,
      `Give ${server.name} its static address ${server.ip} first (see above): a DHCP server cannot get its own address by DHCP.`,
      `Write the file below on ${server.name}, then run: sudo systemctl restart dnsmasq`,
      ...(net.gateway ? [] : ['Add dhcp-option=option:router, with your router\'s address (router.ip is not known to netdoctor).']),
      ...assumedPrefixStep(net),
      'Check from another machine: sudo netdoctor check --only dhcp',
    ],
    snippet: { file: '/etc/dnsmasq.d/dhcp.conf', language: 'conf', text: lines.join('\n') },
  };
}

export function routerDhcpOnFix(config: Config): Fix {
  const reservations = config.hosts.map((h) => `${h.name} (${h.mac} → ${h.ip})`);
  return {
    title: `Turn the router's DHCP server back on${config.router.ip ? ` (${config.router.ip})` : ''}`,
    steps: [
      `Open ${routerPage(config)}.`,
      `In its LAN or DHCP settings, enable the DHCP server (Netgear: "Use Router as DHCP Server").${reservations.length ? ` Check the address reservations are still there: ${reservations.join(', ')}.` : ''}`,
      'If the page does not load, or the setting is already on, restart the router.',
      `Then make each machine that lost its address ask again: re-plug its cable, or on it run sudo nmcli device reapply ${PI_IFACE} (older Raspberry Pi OS: sudo dhcpcd -n ${PI_IFACE}).`,
      'Check: sudo netdoctor check',
    ],
  };
}

export function routerReservationFix(config: Config, host: HostConfig): Fix {
  return {
    title: `Reserve ${host.ip} for ${host.name} in the router's DHCP settings`,
    steps: [
      `Open ${routerPage(config)}, LAN or DHCP settings, "Address Reservation".`,
      `Add ${host.mac} → ${host.ip} (${host.name}).`,
      `Make ${host.name} ask again: re-plug its cable, or on it run sudo nmcli device reapply ${PI_IFACE}.`,
      'A reservation only helps while the router\'s DHCP server runs; a static address on the Pi (above) does not depend on it.',
    ],
  };
}

export function routerDnsSettingFix(config: Config, from: string, to: string, host?: HostConfig): Fix {
  return {
    title: `For now, point the router's DNS setting at ${to}${host ? ` (where ${host.name} is now)` : ''}`,
    steps: [
      `In ${routerPage(config)}, LAN or DHCP settings, change the DNS server handed to devices from ${from} to ${to}.`,
      'Devices pick it up when they renew their lease; reconnect them to hurry it.',
      `A stopgap: the address may change again. Once ${host ? `${host.name} is back on ${from}` : `${from} answers again`}, set it back.`,
    ],
  };
}

export function routerForwardFix(config: Config, fwd: { proto: string; port: number; to: string }, to: string, host?: HostConfig): Fix {
  return {
    title: `For now, point the router's port forward ${fwd.proto.toUpperCase()} ${fwd.port} at ${to}${host ? ` (where ${host.name} is now)` : ''}`,
    steps: [
      `In ${routerPage(config)}, "Port Forwarding", change the rule for ${fwd.proto.toUpperCase()} ${fwd.port} from ${fwd.to} to ${to}.`,
      `A stopgap: the address may change again. Once ${host ? `${host.name} is back on ${fwd.to}` : `${fwd.to} is right again`}, set it back.`,
    ],
  };
}

export function restartServiceFix(host: HostConfig | undefined, where: string, units: string[], what: string): Fix {
  const [unit, ...others] = units;
  return {
    title: `Restart ${what} on ${host?.name ?? where}`,
    steps: [
      `Log in to ${host ? `${host.name} (${host.ip})` : where}.`,
      `Restart it and read why it stopped (the last 50 log lines)${others.length ? `; if ${unit} is not found, the unit may be called ${others.join(' or ')}` : ''}.`,
      `Make it start at boot: sudo systemctl enable ${unit}`,
    ],
    snippet: {
      file: `run on ${host?.name ?? where}`,
      language: 'sh',
      text: [`sudo systemctl restart ${unit}`, `sudo journalctl -u ${unit} -n 50 --no-pager`].join('\n'),
    },
  };
}

export function ddclientForceFix(config: Config, hostname: string, actual: string): Fix {
  const runner = config.hosts.find((h) => h.roles?.includes('ddns'));
  const resolver = config.ddns.resolvers.find(isIPv4);
  return {
    title: `Make ddclient publish ${actual} for ${hostname} now`,
    steps: [
      `On ${runner ? runner.name : 'the machine that runs ddclient'}, force an update with the commands below (do not share ddclient's output: it can show your account name).`,
      `Then check the name answers ${actual}; DNS caches may hold the old address for the record's TTL.`,
      'If it still publishes the old address, see the next fix: ddclient is probably reading the address from the wrong place.',
    ],
    snippet: {
      file: `run on ${runner ? runner.name : 'the ddclient machine'}`,
      language: 'sh',
      text: [`sudo ddclient -daemon=0 -verbose -noquiet -force`, `dig +short ${hostname}${resolver ? ` @${resolver}` : ''}`].join('\n'),
    },
  };
}

export function ddclientConfigFix(config: Config): Fix {
  const runner = config.hosts.find((h) => h.roles?.includes('ddns'));
  return {
    title: 'Make ddclient learn the public address from outside, and keep it running',
    steps: [
      `In /etc/ddclient.conf${runner ? ` on ${runner.name}` : ''}: behind a router, the address must come from the web (use=web, or usev4=webv4 from ddclient 3.11), not from the Pi's own interface (use=if publishes a private LAN address).`,
      'Make sure it runs as a service and checks often enough: sudo systemctl enable --now ddclient; daemon=300 in ddclient.conf checks every 5 minutes.',
      'ddclient trusts its cache: if the cache says the address is already published, it will not send it again until forced.',
    ],
  };
}

export function setcapFix(summary: string): Fix {
  return {
    title: 'Let netdoctor open the DHCP client port',
    steps: [
      summary,
      'Either run it as root (sudo netdoctor check), or give node the two capabilities once (below); they are reset when node is upgraded.',
    ],
    snippet: {
      file: 'run on this machine',
      language: 'sh',
      text: 'sudo setcap cap_net_bind_service,cap_net_raw+ep \\\n  "$(readlink -f "$(command -v node)")"',
    },
  };
}
