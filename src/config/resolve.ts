/**
 * The config every other part of netdoctor reads: the file's values with the
 * gaps filled from the machine and from sensible defaults. Nothing downstream
 * looks at the YAML or the machine again.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseCidr, subnetOf, type Subnet } from '../shared/ipv4.js';
import type { MachineFacts } from './machine.js';
import type { ConfigFile, ForwardConfig, HostConfig, NotifyChannelConfig, TlsAuthConfig, VpnKind, WireguardConfig } from './schema.js';
import { DEFAULT_WIREGUARD_PORT, vpnKindOf } from './vpn-kind.js';

export interface Config {
  site: string;
  interface?: string;
  subnet?: Subnet;
  /** Upper bound of a whole run, ms. */
  deadlineMs: number;
  hosts: HostConfig[];
  router: { ip?: string; wanIp?: string; dnsServer?: string; forwards: ForwardConfig[]; upnp: boolean };
  /** `listed`: netdoctor.yaml names the servers, so one is expected; the router default alone is not evidence. */
  dhcp: { servers: string[]; windowMs: number; listed: boolean };
  dns: { servers: string[]; records: Record<string, string>; external: string[] };
  wan: { targets: string[] };
  /** `configured`: the file has a `ddns:` section; without one nothing is asked of any outside service. */
  ddns: { configured: boolean; hostname?: string; resolvers: string[]; publicIp: string[]; ddclientCache?: string; ddclientConf?: string };
  vpn: {
    host?: string;
    kind: VpnKind;
    proto: 'udp' | 'tcp';
    port: number;
    publicName?: string;
    tlsAuth?: TlsAuthConfig;
    tlsCrypt?: { file: string };
    tlsCryptV2?: { file: string };
    wireguard?: WireguardConfig;
  };
  graphite?: { url: string; prefix: string; spoolMax: number };
  history: { path: string; keepMs: number };
  tui: { refreshMs: number };
  /** Where incident messages go (docs/notify.md); no channels: nobody is told. */
  notify: { minIntervalMs: number; channels: NotifyChannelConfig[] };
  /** node_exporter textfile directory for netdoctor.prom. */
  prometheus?: { textfile: string };
  serve: { listen: string; intervalMs: number };
  /** Where the values came from, for the first-run screen and `--help`-style explanations. */
  source: { file?: string; fromMachine: string[] };
}

export const DEFAULTS = {
  site: 'home',
  deadlineMs: 10_000,
  /**
   * dnsmasq pings an address before offering it, delaying its first OFFER by
   * 3-4 s; a window shorter than that reports a healthy server as missing.
   */
  dhcpWindowMs: 6_000,
  dnsExternal: ['example.com'],
  /** Suggested by `init`; without `wan.targets` only the router is pinged (no outside address unasked). */
  wanTargets: ['1.1.1.1', '8.8.8.8'],
  /** Suggested by `init`, never used unless the config names it: no outside service is asked unasked. */
  publicIp: ['https://api.ipify.org'],
  vpnPort: 1194,
  historyKeepMs: 90 * 86_400_000,
  tuiRefreshMs: 30_000,
  spoolMax: 100_000,
  notifyMinIntervalMs: 10 * 60_000,
  serveListen: '127.0.0.1:9469',
  serveIntervalMs: 60_000,
} as const;

export function resolveConfig(
  file: ConfigFile,
  machine: MachineFacts,
  opts: { file?: string; env?: NodeJS.ProcessEnv; uid?: number } = {},
): Config {
  const env = opts.env ?? process.env;
  const fromMachine: string[] = [];
  const fill = <T>(key: string, given: T | undefined, found: T | undefined): T | undefined => {
    if (given !== undefined) return given;
    if (found !== undefined) fromMachine.push(key);
    return found;
  };

  const iface = fill('interface', file.interface, machine.defaultInterface);
  const ifaceAddr = iface ? machine.interfaces[iface] : undefined;
  const subnet = file.subnet
    ? parseCidr(file.subnet)
    : fill('subnet', undefined, ifaceAddr ? subnetOf(ifaceAddr.address, ifaceAddr.prefix) : undefined);
  // The default route's gateway is only the router when it leaves by the same interface.
  const routerIp = fill('router.ip', file.router?.ip, iface === machine.defaultInterface ? machine.gateway : undefined);
  const dnsServers = fill('dns.servers', file.dns?.servers, machine.resolvers.length ? machine.resolvers : undefined) ?? [];

  const stateDir = defaultStateDir(env, opts.uid ?? process.getuid?.());
  const prefix = file.graphite?.prefix ?? `netdoctor.${file.site ?? DEFAULTS.site}`;

  return {
    site: file.site ?? DEFAULTS.site,
    interface: iface,
    subnet,
    deadlineMs: file.deadline ?? DEFAULTS.deadlineMs,
    hosts: file.hosts ?? [],
    router: {
      ip: routerIp,
      wanIp: file.router?.wanIp,
      dnsServer: file.router?.dnsServer,
      forwards: file.router?.forwards ?? [],
      upnp: file.router?.upnp ?? true,
    },
    dhcp: {
      servers: file.dhcp?.servers ?? (routerIp ? [routerIp] : []),
      windowMs: file.dhcp?.window ?? DEFAULTS.dhcpWindowMs,
      listed: (file.dhcp?.servers?.length ?? 0) > 0,
    },
    dns: {
      servers: dnsServers,
      records: file.dns?.records ?? {},
      external: file.dns?.external ?? [...DEFAULTS.dnsExternal],
    },
    wan: { targets: file.wan?.targets ?? [] },
    ddns: {
      configured: file.ddns !== undefined,
      hostname: file.ddns?.hostname,
      resolvers: file.ddns?.resolvers ?? [],
      publicIp: file.ddns?.publicIp ?? [],
      ddclientCache: expandHome(file.ddns?.ddclientCache, env),
      ddclientConf: expandHome(file.ddns?.ddclientConf, env),
    },
    vpn: {
      host: file.vpn?.host,
      proto: file.vpn?.proto ?? 'udp',
      kind: vpnKindOf(file),
      port: file.vpn?.port ?? (vpnKindOf(file) === 'wireguard' ? DEFAULT_WIREGUARD_PORT : DEFAULTS.vpnPort),
      publicName: file.vpn?.publicName ?? file.ddns?.hostname,
      tlsAuth: file.vpn?.tlsAuth && { ...file.vpn.tlsAuth, file: expandHome(file.vpn.tlsAuth.file, env)! },
      tlsCrypt: file.vpn?.tlsCrypt && { file: expandHome(file.vpn.tlsCrypt.file, env)! },
      tlsCryptV2: file.vpn?.tlsCryptV2 && { file: expandHome(file.vpn.tlsCryptV2.file, env)! },
      wireguard: file.vpn?.wireguard && {
        privateKeyFile: expandHome(file.vpn.wireguard.privateKeyFile, env)!,
        serverPublicKey: file.vpn.wireguard.serverPublicKey.trim(),
        presharedKeyFile: expandHome(file.vpn.wireguard.presharedKeyFile, env),
      },
    },
    graphite: file.graphite && {
      url: file.graphite.url,
      prefix,
      spoolMax: file.graphite.spoolMax ?? DEFAULTS.spoolMax,
    },
    history: {
      path: expandHome(file.history?.path, env) ?? defaultHistoryPath(stateDir),
      keepMs: file.history?.keep ?? DEFAULTS.historyKeepMs,
    },
    tui: { refreshMs: file.tui?.refresh ?? DEFAULTS.tuiRefreshMs },
    notify: {
      minIntervalMs: file.notify?.minInterval ?? DEFAULTS.notifyMinIntervalMs,
      channels: (file.notify?.channels ?? []).map((c) => (c.type === 'email' && c.ca ? { ...c, ca: expandHome(c.ca, env)! } : c)),
    },
    prometheus: file.prometheus && { textfile: expandHome(file.prometheus.textfile, env)! },
    serve: { listen: file.serve?.listen ?? DEFAULTS.serveListen, intervalMs: file.serve?.interval ?? DEFAULTS.serveIntervalMs },
    source: { file: opts.file, fromMachine },
  };
}

/**
 * Where netdoctor keeps its state (history) when the config does not say.
 * Root without XDG_STATE_HOME is cron or a service: its history belongs in
 * /var/lib, where `sudo netdoctor report` finds it too, not in whichever HOME
 * sudo happened to keep.
 */
export function defaultStateDir(env: NodeJS.ProcessEnv, uid: number | undefined): string {
  if (env.XDG_STATE_HOME) return join(env.XDG_STATE_HOME, 'netdoctor');
  if (uid === 0) return '/var/lib/netdoctor';
  return join(env.HOME || homedir(), '.local', 'state', 'netdoctor');
}

/** Where the history lives when the config does not say: in the state dir. */
export function defaultHistoryPath(stateDir: string): string {
  return join(stateDir, 'history.db');
}

function expandHome(path: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (path === undefined) return undefined;
  if (path === '~' || path.startsWith('~/')) return join(env.HOME || homedir(), path.slice(1));
  return path;
}

/** The host that carries a role, or the one named (`vpn.host`). */
export function hostByName(config: Config, name: string | undefined): HostConfig | undefined {
  return name === undefined ? undefined : config.hosts.find((h) => h.name === name);
}

export function hostsWithRole(config: Config, role: string): HostConfig[] {
  return config.hosts.filter((h) => h.roles?.includes(role as never));
}
