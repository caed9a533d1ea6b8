/**
 * `netdoctor init`: writes a starter netdoctor.yaml from what the machine
 * already knows — the default route's interface and gateway, the interface's
 * subnet, /etc/resolv.conf, the kernel's neighbour table, ddclient's cache —
 * all read, nothing sent. Only if the user agrees (a question on a terminal,
 * or --yes) does it probe: a sweep of the subnet and a DHCP discover, to
 * find more machines, the DHCP servers and the DNS server the router hands
 * out. --no-scan never asks; without a terminal it never scans unless --yes.
 *
 * The file is commented so a user learns the keys from it, loads without an
 * error (it is validated with the real loader before it is written), and is
 * never written over without --force; it appears whole or not at all.
 */
import { existsSync, linkSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { parseConfigText } from '../config/load.js';
import { readAddressOrigin, type AddressOrigin } from '../config/address-origin.js';
import { readMachineFacts, type MachineFacts } from '../config/machine.js';
import { DEFAULTS, resolveConfig } from '../config/resolve.js';
import { readDdclientCache } from '../probes/net/ddclient.js';
import { ipv4Entries, readNeighbours, type NeighbourEntry } from '../probes/net/neighbours.js';
import { MAX_PREFIX_UNFORCED } from '../probes/net/sweep.js';
import type { Observation } from '../probes/types.js';
import { describeRouterAnswer, routerAnswerOf, wanIpLine, type RouterAnswer } from './init-router.js';
import { formatDuration } from '../shared/duration.js';
import { ConfigError, UserError, errorMessage } from '../shared/errors.js';
import { compareIp, inSubnet, isIPv4, subnetOf, type Subnet } from '../shared/ipv4.js';
import { plural } from '../shared/text.js';
import { wireguardPeerBlock } from '../shared/vpn.js';
import { ensureProbeKey, readVpnOnMachine, vpnYaml, type FoundVpn } from './init-vpn.js';

/** netdoctor's WireGuard probe key, beside the config init writes. */
const PROBE_KEY_FILE = 'netdoctor-wireguard.key';

export interface InitOptions {
  output?: string;
  force?: boolean;
  /** Answer yes to the scan question. */
  yes?: boolean;
  /** `--no-scan` gives false: never scan, never ask. */
  scan?: boolean;
}

/** A device seen on the LAN, by the neighbour table or the scan. */
export interface SeenDevice {
  ip: string;
  mac: string;
  /** `neighbour table (REACHABLE)`, `scan`. */
  via: string;
}

/** What an agreed scan found. */
export interface ScanFindings {
  alive: SeenDevice[];
  /** DHCP servers that answered a DISCOVER, with what they hand out. */
  dhcp: Array<{ serverId: string; router: string[]; dns: string[]; domain?: string }>;
  /** What could not be done (no permission for DHCP, subnet too wide…), in words. */
  notes: string[];
  /** What the router answered over UPnP and NAT-PMP/PCP (init-router.ts). */
  router?: RouterAnswer;
}

/** Everything the starter file is written from. */
export interface Discovered {
  machine: MachineFacts;
  iface?: string;
  address?: { address: string; prefix: number; mac: string };
  subnet?: Subnet;
  neighbours: SeenDevice[];
  neighbourError?: string;
  ddclient?: { path: string; host?: string };
  /** How this machine got its address: the only evidence, without a scan, that a DHCP server is expected. */
  addressOrigin?: AddressOrigin;
  scan?: ScanFindings;
  /** VPN servers configured on this machine (read only). */
  vpn?: FoundVpn[];
}

export interface InitDeps {
  machine(): MachineFacts;
  neighbours(iface: string): Promise<NeighbourEntry[]>;
  ddclient(): Promise<{ path: string; host?: string } | undefined>;
  addressOrigin?(iface: string): Promise<AddressOrigin>;
  /** The VPN servers configured on this machine (init-vpn.ts). */
  vpnOnMachine?(): FoundVpn[];
  /** Asks a yes/no question on the terminal; resolves false on anything but yes. */
  ask(question: string): Promise<boolean>;
  /** The active scan; called only after the user agreed. */
  scan(d: Discovered): Promise<ScanFindings>;
  /** stdin and stdout are a terminal (questions can be asked). */
  interactive: boolean;
  say(line: string): void;
  now(): Date;
  cwd: string;
}

const DDCLIENT_CACHE = '/var/cache/ddclient/ddclient.cache';

/** OUIs of the Raspberry Pi Foundation / Raspberry Pi Trading. */
const RASPBERRY_PI_OUIS = ['b8:27:eb', 'dc:a6:32', 'e4:5f:01', 'd8:3a:dd', '28:cd:c1', '2c:cf:67'];
export const isRaspberryPi = (mac: string) => RASPBERRY_PI_OUIS.includes(mac.toLowerCase().slice(0, 8));

export async function run(opts: InitOptions, overrides: Partial<InitDeps> = {}): Promise<number> {
  const deps: InitDeps = { ...defaultDeps(), ...overrides };
  const output = opts.output ?? 'netdoctor.yaml';
  const target = resolve(deps.cwd, output);
  // Refuse before any work or question: nothing is overwritten without --force.
  checkWritable(target, output, opts.force === true);

  const d = await discover(deps);
  deps.say('netdoctor init: what this machine already knows (read, nothing sent):');
  for (const line of describeDiscovered(d)) deps.say(`  ${line}`);

  const question = scanQuestion(d);
  if (question) {
    let agreed = false;
    if (opts.scan === false) agreed = false;
    else if (opts.yes) agreed = true;
    else if (deps.interactive) agreed = await deps.ask(`${question} [y/N] `);
    else deps.say('Not scanning the network (not a terminal, so nobody to ask): run with --yes to scan, or on a terminal to be asked.');
    if (agreed) {
      deps.say(d.subnet && d.subnet.prefix >= MAX_PREFIX_UNFORCED
        ? `Scanning ${d.subnet.cidr} and listening for DHCP servers (a few seconds; DISCOVER only, no lease is taken)…`
        : `Listening for DHCP servers on ${d.iface} (a few seconds; DISCOVER only, no lease is taken)…`);
      d.scan = await deps.scan(d);
      for (const line of describeScan(d.scan)) deps.say(`  ${line}`);
    }
  }

  d.vpn = deps.vpnOnMachine?.() ?? [];
  const probeKeyFile = join(dirname(target), PROBE_KEY_FILE);
  const yaml = starterYaml(d, deps.now(), probeKeyFile);
  // The file must load as it is: a starter that fails to load would be worse than none.
  try {
    parseConfigText(yaml, { file: output, machine: d.machine });
  } catch (err) {
    const detail = err instanceof ConfigError ? err.message : errorMessage(err);
    throw new Error(`the starter file netdoctor init built does not load (${detail}); nothing was written`);
  }
  writeWhole(target, output, yaml, opts.force === true);
  const watched = watchedHosts(d);
  deps.say(`Wrote ${output}${watched.length ? `: watching ${watched.map((h) => h.name).join(', ')}` : ''}; more suggestions are in its comments.`);
  if (d.vpn[0]?.kind === 'wireguard') {
    // WireGuard answers only peers it knows: netdoctor gets its own key pair, and the server a [Peer] block.
    deps.say(`WireGuard found (${d.vpn[0].source}): netdoctor's probe key is in ${probeKeyFile} (0600). Add this to ${d.vpn[0].source}, then sudo wg syncconf ${d.vpn[0].wireguard?.iface} <(sudo wg-quick strip ${d.vpn[0].wireguard?.iface}):`);
    deps.say(wireguardPeerBlock(ensureProbeKey(probeKeyFile)));
  }
  deps.say('Next: read it through (name your hosts, uncomment what you use), then run `sudo netdoctor` for the live view or `netdoctor check` once.');
  return 0;
}

function defaultDeps(): InitDeps {
  return {
    machine: readMachineFacts,
    addressOrigin: readAddressOrigin,
    neighbours: async (iface) => (await readNeighbours(iface, { timeoutMs: 5000 })).entries,
    vpnOnMachine: () => readVpnOnMachine(),
    ddclient: async () => {
      if (!existsSync(DDCLIENT_CACHE)) return undefined;
      const read = await readDdclientCache(DDCLIENT_CACHE);
      return { path: DDCLIENT_CACHE, host: read.ok ? read.cache.entries[0]?.host : undefined };
    },
    ask: askYesNo,
    scan: activeScan,
    interactive: process.stdin.isTTY === true && process.stdout.isTTY === true,
    say: (line) => process.stdout.write(`${line}\n`),
    now: () => new Date(),
    cwd: process.cwd(),
  };
}

function checkWritable(target: string, shown: string, force: boolean): void {
  let st;
  try {
    st = statSync(target);
  } catch {
    if (!existsSync(dirname(target))) throw new UserError(`cannot write ${shown}: the directory ${dirname(target)} does not exist`, 'Create it first, or give another path with -o FILE.');
    return;
  }
  if (st.isDirectory()) throw new UserError(`cannot write ${shown}: it is a directory`, 'Give a file name with -o FILE, e.g. -o netdoctor.yaml.');
  if (!force) throw new UserError(`${shown} already exists; netdoctor init does not overwrite it`, 'Use --force to replace it, or -o FILE to write the starter somewhere else.');
}

/** Whole or not at all: written beside the target and renamed into place (never over a file without --force). */
function writeWhole(target: string, shown: string, text: string, force: boolean): void {
  const tmp = `${target}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, text, { mode: 0o644, flag: 'wx' });
    if (force) {
      renameSync(tmp, target);
    } else {
      // A link fails if the name exists, so a file created meanwhile is not clobbered either.
      linkSync(tmp, target);
      unlinkSync(tmp);
    }
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // nothing was left behind
    }
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new UserError(`${shown} already exists; netdoctor init does not overwrite it`, 'Use --force to replace it.');
    throw new UserError(`cannot write ${shown}: ${code === 'EACCES' ? 'permission denied' : errorMessage(err)}`);
  }
}

// ------------------------------------------------------------------ reading the machine

export async function discover(deps: Pick<InitDeps, 'machine' | 'neighbours' | 'ddclient' | 'addressOrigin'>): Promise<Discovered> {
  const machine = deps.machine();
  const iface = machine.defaultInterface;
  const address = iface ? machine.interfaces[iface] : undefined;
  const subnet = address ? subnetOf(address.address, address.prefix) : undefined;
  const d: Discovered = { machine, iface, address, subnet, neighbours: [] };
  if (iface) {
    try {
      d.neighbours = ipv4Entries(await deps.neighbours(iface))
        .filter((e) => e.mac && isIPv4(e.ip) && !['INCOMPLETE', 'FAILED', 'NOARP', 'NONE'].includes(e.state))
        .map((e) => ({ ip: e.ip, mac: e.mac!, via: `neighbour table (${e.state})` }));
    } catch (err) {
      d.neighbourError = errorMessage(err);
    }
  }
  if (iface && deps.addressOrigin) d.addressOrigin = await deps.addressOrigin(iface);
  try {
    d.ddclient = await deps.ddclient();
  } catch {
    // ddclient's cache is a hint, not a requirement
  }
  return d;
}

function describeDiscovered(d: Discovered): string[] {
  const lines = [
    `interface  ${d.iface ? `${d.iface}${d.address ? `, ${d.address.address}/${d.address.prefix}` : ' (no IPv4 address)'}` : 'none: this machine has no default route'}`,
    `gateway    ${d.machine.gateway ?? 'none'}`,
    `resolvers  ${d.machine.resolvers.length ? d.machine.resolvers.join(', ') : 'none in /etc/resolv.conf'}`,
  ];
  if (d.iface) lines.push(`neighbours ${d.neighbourError ? `unreadable (${d.neighbourError})` : `${plural(d.neighbours.length, 'device')} in ${d.iface}'s neighbour table`}`);
  if (d.ddclient) lines.push(`ddclient   cache at ${d.ddclient.path}${d.ddclient.host ? ` (updates ${d.ddclient.host})` : ''}`);
  return lines;
}

/** The question asked before any packet is sent, or undefined when there is nothing to scan. */
export function scanQuestion(d: Discovered): string | undefined {
  if (!d.iface || !d.address) return undefined;
  if (d.subnet && d.subnet.prefix >= MAX_PREFIX_UNFORCED) return `Scan ${d.subnet.cidr} and listen for DHCP servers on ${d.iface} to fill in more?`;
  return `Listen for DHCP servers on ${d.iface} to fill in more? (${d.subnet?.cidr ?? 'the subnet'} is too wide to sweep)`;
}

function describeScan(s: ScanFindings): string[] {
  const lines: string[] = [];
  lines.push(`scan       ${plural(s.alive.length, 'device')} answered`);
  if (s.dhcp.length === 0) lines.push('dhcp       no DHCP server answered');
  for (const o of s.dhcp) lines.push(`dhcp       ${o.serverId} hands out gateway ${o.router.join(', ') || 'none'}, DNS ${o.dns.join(', ') || 'none'}`);
  if (s.router) lines.push(describeRouterAnswer(s.router));
  for (const n of s.notes) lines.push(`note       ${n}`);
  return lines;
}

async function askYesNo(question: string): Promise<boolean> {
  // After the UI (ink) hands over to init, stdin is paused and unref'd: without this the process would end mid-question.
  process.stdin.ref();
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = await new Promise<string>((resolveAnswer) => {
      rl.question(question).then(resolveAnswer, () => resolveAnswer(''));
      rl.once('close', () => resolveAnswer(''));
    });
    return /^\s*y(es)?\s*$/i.test(answer);
  } finally {
    rl.close();
    process.stdin.unref();
  }
}

/**
 * The agreed scan: the hosts probe's sweep (every address of the subnet made
 * to answer ARP, proof from this run only) and the DHCP probe's DISCOVER
 * (never a REQUEST: no lease is taken), side by side under one deadline.
 */
async function activeScan(d: Discovered): Promise<ScanFindings> {
  const [{ openPipeline }, { dhcpProbe }, { hostsProbe }, { routerProbe }] = await Promise.all([
    import('../run/pipeline.js'),
    import('../probes/dhcp.js'),
    import('../probes/hosts.js'),
    import('../probes/router.js'),
  ]);
  const controller = new AbortController();
  const onSignal = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  // No prepare step: init runs as whoever started it, and each probe opens what it needs in its run.
  const pipeline = await openPipeline({
    config: resolveConfig({}, d.machine),
    probes: [dhcpProbe, hostsProbe, routerProbe],
    vantage: 'inside',
    deadlineMs: DEFAULTS.dhcpWindowMs + 3000,
    prepare: false,
  });
  try {
    const { result } = await pipeline.run(controller.signal);
    return scanFindingsOf(result.observations);
  } finally {
    pipeline.close();
    process.off('SIGINT', onSignal);
  }
}

/** What the sweep and the DHCP probe observed, as init needs it. */
export function scanFindingsOf(observations: readonly Observation[]): ScanFindings {
  const out: ScanFindings = { alive: [], dhcp: [], notes: [] };
  for (const o of observations) {
    const data = (o.data ?? {}) as Record<string, unknown>;
    if (o.check === 'sweep' && o.status === 'ok' && Array.isArray(data.alive)) {
      for (const a of data.alive as Array<{ ip?: unknown; mac?: unknown }>) {
        if (typeof a.ip === 'string' && typeof a.mac === 'string') out.alive.push({ ip: a.ip, mac: a.mac, via: 'scan' });
      }
    } else if (o.check === 'offer' && typeof data.serverId === 'string') {
      const list = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && isIPv4(x)) : []);
      out.dhcp.push({ serverId: data.serverId, router: list(data.router), dns: list(data.dns), ...(typeof data.domain === 'string' ? { domain: data.domain } : {}) });
    } else if (o.status === 'error') {
      out.notes.push(`${o.probe}: ${o.summary}`);
    }
  }
  const router = routerAnswerOf(observations);
  return router ? { ...out, router } : out;
}

// ------------------------------------------------------------------ the file

interface HostSuggestion {
  name: string;
  mac: string;
  ip: string;
  roles: string[];
  why: string[];
  /** Written as a live entry (a Pi, a LAN DNS server); others stay as commented suggestions. */
  watch: boolean;
}

/** LAN DNS servers: from resolv.conf and from DHCP offers, on the subnet, not the router itself. */
function lanDnsServers(d: Discovered): string[] {
  const offered = (d.scan?.dhcp ?? []).flatMap((o) => o.dns);
  return [...new Set([...d.machine.resolvers, ...offered])].filter((ip) => d.subnet && inSubnet(ip, d.subnet) && ip !== d.machine.gateway);
}

export function hostSuggestions(d: Discovered): HostSuggestion[] {
  const own = new Set([d.address?.address, ...Object.values(d.machine.interfaces).map((i) => i.address)].filter(Boolean));
  const ownMacs = new Set(Object.values(d.machine.interfaces).map((i) => i.mac.toLowerCase()));
  const byMac = new Map<string, SeenDevice & { vias: string[] }>();
  for (const dev of [...(d.scan?.alive ?? []), ...d.neighbours]) {
    const mac = dev.mac.toLowerCase();
    if (own.has(dev.ip) || ownMacs.has(mac) || dev.ip === d.machine.gateway) continue;
    if (d.subnet && !inSubnet(dev.ip, d.subnet)) continue;
    const seen = byMac.get(mac);
    if (seen) {
      if (!seen.vias.includes(dev.via)) seen.vias.push(dev.via);
    } else {
      byMac.set(mac, { ...dev, mac, vias: [dev.via] });
    }
  }
  const dnsServers = lanDnsServers(d);
  const names = new Set<string>();
  return [...byMac.values()]
    .sort((a, b) => compareIp(a.ip, b.ip))
    .map((dev) => {
      const pi = isRaspberryPi(dev.mac);
      const last = dev.ip.split('.')[3];
      let name = `${pi ? 'pi' : 'host'}-${last}`;
      for (let n = 2; names.has(name); n++) name = `${pi ? 'pi' : 'host'}-${last}-${n}`;
      names.add(name);
      const roles: string[] = [];
      const why: string[] = [];
      if (pi) why.push('a Raspberry Pi');
      if (dnsServers.includes(dev.ip)) {
        roles.push('dns');
        why.push('the DNS server this network uses');
      }
      why.push(dev.vias.map((v) => (v === 'scan' ? 'answered the scan' : `seen in the ${v}`)).join(', '));
      return { name, mac: dev.mac, ip: dev.ip, roles, why, watch: pi || roles.includes('dns') };
    });
}

export function watchedHosts(d: Discovered): HostSuggestion[] {
  return hostSuggestions(d).filter((h) => h.watch);
}

const hostLine = (h: HostSuggestion) => `{ name: ${h.name}, mac: "${h.mac}", ip: ${h.ip}${h.roles.length ? `, roles: [${h.roles.join(', ')}]` : ''} }`;

/** The starter netdoctor.yaml: every section present, live where the machine told us, commented where the user must decide. */
export function starterYaml(d: Discovered, when: Date, probeKeyFile = PROBE_KEY_FILE): string {
  const L: string[] = [];
  const gateway = d.machine.gateway && (!d.subnet || inSubnet(d.machine.gateway, d.subnet)) ? d.machine.gateway : undefined;
  const sources = ['the default route', 'the interface', '/etc/resolv.conf', ...(d.neighbours.length ? ['the neighbour table'] : []), ...(d.ddclient ? ["ddclient's cache"] : [])];
  L.push(`# netdoctor.yaml — written by \`netdoctor init\` on ${when.toISOString().slice(0, 10)} from what this machine`);
  L.push(`# already knew (${sources.join(', ')})${d.scan ? `,\n# and a scan of ${d.subnet?.cidr ?? d.iface} you agreed to` : ''}.`);
  L.push('# Every key is optional: delete one and netdoctor reads that value from the machine again.');
  L.push('# Durations: 500ms, 2s, 5m, 24h, 90d. Check the file: netdoctor check   Watch live: sudo netdoctor');
  L.push('');
  L.push('# Name of this network in reports and metric paths (letters, digits, - and _).');
  L.push(`site: ${DEFAULTS.site}`);
  L.push('');
  L.push('# The interface netdoctor checks from, and the LAN on it. Sweeps never leave the subnet');
  L.push(`# (at most a /${MAX_PREFIX_UNFORCED} unless you pass --force).`);
  if (d.iface) L.push(`interface: ${d.iface}`);
  else L.push('# interface: eth0   # no default route was found: set the LAN interface here');
  if (d.subnet) L.push(`subnet: ${d.subnet.cidr}`);
  else L.push('# subnet: 192.168.1.0/24');
  L.push('');
  L.push('# Upper bound for one run; the probes run side by side under it.');
  L.push(`deadline: ${formatDuration(DEFAULTS.deadlineMs)}`);
  L.push('');

  // hosts
  const hosts = hostSuggestions(d);
  const watched = hosts.filter((h) => h.watch);
  const others = hosts.filter((h) => !h.watch);
  L.push('# Machines that must keep their addresses, known by MAC: netdoctor says when one moved,');
  L.push('# vanished, or another device took its address. roles: dns, vpn, dhcp, graphite, ddns, web, other.');
  if (hosts.length) L.push('# The names are guesses from the last part of the address: call them what you call them.');
  if (watched.length > 0) {
    L.push('hosts:');
    for (const h of watched) L.push(`  - ${hostLine(h)}   # ${h.why.join('; ')}`);
    if (others.length > 0) {
      L.push('  # Also seen; uncomment the ones that matter to you:');
      for (const h of others) L.push(`  # - ${hostLine(h)}   # ${h.why.join('; ')}`);
    }
  } else if (others.length > 0) {
    L.push('# Seen on the LAN; uncomment `hosts:` and the ones that matter to you:');
    L.push('# hosts:');
    for (const h of others) L.push(`#   - ${hostLine(h)}   # ${h.why.join('; ')}`);
  } else {
    L.push('# hosts:');
    L.push('#   - { name: pi-dns, mac: "b8:27:eb:00:00:10", ip: 192.168.1.10, roles: [dns] }');
    L.push('#   - { name: pi-vpn, mac: "b8:27:eb:00:00:20", ip: 192.168.1.20, roles: [vpn] }');
  }
  L.push('');

  // router
  const routerOffer = d.scan?.dhcp.find((o) => o.serverId === gateway) ?? d.scan?.dhcp[0];
  const handedDns = routerOffer?.dns[0];
  const lanDns = lanDnsServers(d);
  const vpnHost = hosts.find((h) => h.watch && !h.roles.includes('dns')) ?? hosts.find((h) => h.watch);
  L.push('# The router: its LAN address, the DNS server it hands out, and its port forwards. When a Pi');
  L.push('# loses its address, these are what silently point at nothing.');
  const router: string[] = [];
  if (gateway) router.push(`  ip: ${gateway}   # the default gateway`);
  else router.push('  # ip: 192.168.1.1   # no default gateway on the LAN was found');
  router.push(wanIpLine(d.scan?.router));
  if (handedDns) router.push(`  dnsServer: ${handedDns}   # the DNS server its DHCP offer hands out (seen in the scan)`);
  else router.push(`  # dnsServer: ${lanDns[0] ?? '192.168.1.10'}   # the DNS server the router hands out to every device`);
  router.push('  # forwards:   # port forwards to check, e.g. OpenVPN on a Pi:');
  router.push(`  #   - { proto: udp, port: 1194, to: ${vpnHost?.ip ?? '192.168.1.20'} }`);
  // A section with nothing live in it would be an empty mapping, which does not load: comment it whole.
  const live = router.some((l) => !l.trimStart().startsWith('#'));
  L.push(live ? 'router:' : '# router:');
  L.push(...(live ? router : router.map((l) => `#${l.replace(/^ {2}# /, '   ')}`)));
  L.push('');

  // dhcp
  const offered = [...new Set((d.scan?.dhcp ?? []).map((o) => o.serverId))];
  // A server is expected only with evidence: one answered the scan, or this machine's own address came from DHCP.
  const leased = d.addressOrigin?.origin === 'dhcp';
  let allowed = gateway && leased ? [gateway] : [];
  let alsoAnswered: string[] = [];
  if (d.scan && offered.length > 0) {
    allowed = gateway && offered.includes(gateway) ? [gateway] : offered;
    alsoAnswered = offered.filter((s) => !allowed.includes(s));
  }
  L.push('# DHCP servers expected to answer; any other is reported as unexpected (a rogue server). Without');
  L.push('# servers listed, silence is only a fault when this machine\'s own address came from DHCP.');
  L.push('# The window is how long to collect offers: dnsmasq pings before its first offer (3-4 s).');
  L.push('dhcp:');
  if (allowed.length) {
    const why = d.scan && offered.length ? 'answered the scan' : `this machine's address came from DHCP (${d.addressOrigin?.evidence ?? 'dynamic'})`;
    L.push(`  servers: [${allowed.join(', ')}]   # ${why}`);
  } else {
    const seen = d.addressOrigin ? ` (${d.addressOrigin.evidence})` : '';
    L.push(`  # servers: [${gateway ?? '192.168.1.1'}]   # not set: ${d.scan ? 'no server answered the scan' : 'no scan was made'} and this machine's address is not from DHCP${seen}`);
  }
  if (alsoAnswered.length) L.push(`  # also answered the scan: ${alsoAnswered.join(', ')} — add it above if it is yours; if not, it is a rogue DHCP server`);
  L.push(`  window: ${formatDuration(DEFAULTS.dhcpWindowMs)}`);
  L.push('');

  // dns
  const servers = d.machine.resolvers.filter((r) => !r.startsWith('127.'));
  const stub = d.machine.resolvers.filter((r) => r.startsWith('127.'));
  L.push('# DNS servers to ask, names that must resolve to given addresses, and outside names that');
  L.push('# prove the upstream works.');
  L.push('dns:');
  if (servers.length) L.push(`  servers: [${servers.join(', ')}]   # from /etc/resolv.conf`);
  else if (handedDns) L.push(`  servers: [${handedDns}]   # handed out by DHCP (/etc/resolv.conf has only ${stub.join(', ') || 'nothing'})`);
  else L.push(`  # servers: [192.168.1.10]   # /etc/resolv.conf has only ${stub.length ? `${stub.join(', ')} (a local stub resolver)` : 'nothing'}: put your LAN's DNS server here`);
  L.push('  # records:   # names your DNS server must answer, and with what');
  const recordHosts = watched.length ? watched : [];
  if (recordHosts.length) for (const h of recordHosts) L.push(`  #   ${h.name}.home: ${h.ip}`);
  else L.push('  #   pi-vpn.home: 192.168.1.20');
  L.push(`  external: [${DEFAULTS.dnsExternal.join(', ')}]`);
  L.push('');

  L.push('# Outside addresses that prove the internet works (any one answering is enough).');
  L.push('wan:');
  L.push(`  targets: [${DEFAULTS.wanTargets.join(', ')}]`);
  L.push('');

  // ddns
  L.push('# Dynamic DNS: the name that must point at your public address, and where to learn that address.');
  if (d.ddclient?.host) {
    L.push('ddns:');
    L.push(`  hostname: ${d.ddclient.host}   # from ddclient's cache`);
    L.push(`  ddclientCache: ${d.ddclient.path}`);
    L.push(`  publicIp: [${DEFAULTS.publicIp.join(', ')}]   # tried in order`);
  } else {
    L.push('# ddns:');
    L.push('#   hostname: home.dyn.example.net');
    L.push(`#   publicIp: [${DEFAULTS.publicIp.join(', ')}]   # tried in order`);
    L.push(`#   ddclientCache: ${d.ddclient?.path ?? DDCLIENT_CACHE}`);
  }
  L.push('');

  L.push('# The VPN: which host runs it (a name from hosts), and the public name outside clients use.');
  if (d.vpn?.[0]) L.push(...vpnYaml(d.vpn[0], vpnHost?.name, d.ddclient?.host, probeKeyFile));
  else L.push(`# vpn: { host: ${vpnHost?.name ?? 'pi-vpn'}, proto: udp, port: 1194${d.ddclient?.host ? `, publicName: ${d.ddclient.host}` : ', publicName: home.dyn.example.net'} }`);
  L.push('');
  L.push('# Metrics to Graphite (carbon plaintext), and the run history for post-incident reports.');
  L.push('# graphite: { url: tcp://graphite.home:2003, prefix: netdoctor.home }');
  L.push('# history: { path: ~/.local/state/netdoctor/history.db, keep: 90d }');
  L.push('');
  L.push('# Tell someone when an incident opens, changes and ends (docs/notify.md): ntfy, email, webhook, alertmanager.');
  L.push('# notify: { minInterval: 10m, channels: [{ type: ntfy, url: https://ntfy.sh/my-netdoctor-topic }] }');
  L.push('# Prometheus: netdoctor.prom for node_exporter\'s textfile collector; `netdoctor serve` for /metrics.');
  L.push('# prometheus: { textfile: /var/lib/prometheus/node-exporter }');
  L.push('# serve: { listen: "127.0.0.1:9469", interval: 1m }');
  L.push('');
  L.push('# The live view (`netdoctor`): how often "a" (auto-refresh) runs the probes again.');
  L.push('tui:');
  L.push(`  refresh: ${formatDuration(DEFAULTS.tuiRefreshMs)}`);
  return `${L.join('\n')}\n`;
}
