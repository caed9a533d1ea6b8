/**
 * `netdoctor lab`: the seed's home network in Linux network namespaces, with
 * real servers (dnsmasq, busybox udhcpc and httpd, OpenVPN) and named faults.
 * The CLI command and the test harness are both thin layers over this class.
 *
 * Every process the lab starts is recorded in `<stateDir>/state.json` by pid
 * and start time; `down` stops exactly those (and whatever is still running
 * inside the lab's own namespaces), then deletes the namespaces and the state
 * dir. Nothing in the lab has a link into the host's namespace.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EnvironmentError, UsageError, UserError } from '../shared/errors.js';
import { inSubnet, ipToInt, parseCidr } from '../shared/ipv4.js';
import { waitFor } from '../shared/wait.js';
import { labConfigYaml } from './config-yaml.js';
import { prepareMiniupnpd, UPNP_HTTP_PORT } from './upnp.js';
import { HEALTHY, addFaults, checkFaultNames, worldFor, type FaultName, type World } from './faults.js';
import {
  dnsmasqArgv, httpdArgv, ispResolverConf, makePki, openvpnArgv, openvpnConf, piDnsConf, rogueDhcpConf, routerDhcpConf,
  routerLeaseFile, udhcpcArgv, udhcpcScript, writeEchoSite, writeExecutable, type Pki,
} from './servers.js';
import {
  LAB_PACKAGES_HINT, isAlive, must, processStartTime, run, startDaemon, stopProcesses, stopProcessesSync, which,
  type ProcessRecord, type RunResult,
} from './sys.js';
import {
  ALL_NODES, CGNAT, DHCP_CLIENTS, LAN, NODES, PIS, PREFIX_PATTERN, ROGUE, STATE_ROOT, VPN, VPS, WAN, linkLocalFor, nsName,
  type DhcpClientNode, type LabNode,
} from './topology.js';

export interface LabState {
  version: 1;
  prefix: string;
  createdAt: string;
  /** Process that built the lab; the test harness reaps labs whose owner died without cleaning up. */
  ownerPid: number;
  faults: FaultName[];
  /** The world as last applied (what the faults made of the lab). */
  world: World;
  /** Every process the lab started, by `<node>/<service>`. */
  processes: Record<string, ProcessRecord>;
}

export interface UpOptions {
  faults?: readonly string[];
  /** Progress lines (the CLI prints them on stderr). */
  log?: (line: string) => void;
}

export interface ExecOptions {
  timeoutMs?: number;
  input?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface LabStatus {
  prefix: string;
  stateDir: string;
  up: boolean;
  faults: FaultName[];
  nodes: Array<{ node: LabNode; namespace: string; exists: boolean; addresses: Array<{ iface: string; cidr: string; state: string }> }>;
  processes: Array<{ name: string; pid: number; running: boolean }>;
}

/** The commands the lab runs; checked up front so a missing package is one clear message. */
export const LAB_COMMANDS = ['ip', 'iptables-restore', 'ss', 'dnsmasq', 'busybox', 'openvpn', 'openssl', 'miniupnpd', 'nft'] as const;

/** Why the lab cannot run on this machine, or undefined when it can. */
export function labUnavailableReason(): string | undefined {
  if (process.platform !== 'linux') return 'the lab needs Linux network namespaces';
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'the lab needs root (network namespaces, veth pairs, iptables)';
  const missing = LAB_COMMANDS.filter((c) => !which(c));
  if (missing.length) return `missing commands: ${missing.join(', ')} (${LAB_PACKAGES_HINT})`;
  if (!existsSync('/dev/net/tun')) return 'no /dev/net/tun (OpenVPN on pi-vpn needs it)';
  return undefined;
}

export function checkPrefix(prefix: string): string {
  if (!PREFIX_PATTERN.test(prefix)) {
    throw new UsageError(`--prefix ${JSON.stringify(prefix)} is not a lab prefix (expected a lower-case letter then up to 11 letters or digits, like nd or lab2)`);
  }
  return prefix;
}

export const stateDirOf = (prefix: string) => join(STATE_ROOT, prefix);
const NETNS_ETC = '/etc/netns';

/** `ip -n <ns> …` */
const ipn = (ns: string, ...args: string[]) => must(['ip', '-n', ns, ...args]);
/** A command inside a namespace. */
const inNs = (ns: string, ...argv: string[]) => must(['ip', 'netns', 'exec', ns, ...argv]);

function existingNamespaces(): Set<string> {
  try {
    return new Set(readdirSync('/run/netns'));
  } catch {
    return new Set();
  }
}

export class Lab {
  readonly prefix: string;
  readonly stateDir: string;
  private state: LabState;

  private constructor(prefix: string, state: LabState) {
    this.prefix = prefix;
    this.stateDir = stateDirOf(prefix);
    this.state = state;
  }

  // ---------------------------------------------------------------- lifecycle

  /** True when anything of a lab with this prefix exists (state dir or a namespace). */
  static exists(prefix: string): boolean {
    const nss = existingNamespaces();
    return existsSync(stateDirOf(prefix)) || ALL_NODES.some((n) => nss.has(nsName(prefix, n)));
  }

  /** The lab built earlier (e.g. by another `netdoctor lab` command). */
  static open(prefix: string): Lab {
    checkPrefix(prefix);
    const file = join(stateDirOf(prefix), 'state.json');
    let state: LabState;
    try {
      state = JSON.parse(readFileSync(file, 'utf8')) as LabState;
    } catch {
      throw new UserError(`there is no lab with prefix ${JSON.stringify(prefix)} (no ${file})`,
        `Build one with \`sudo netdoctor lab up${prefix === 'nd' ? '' : ` --prefix ${prefix}`}\`.`);
    }
    return new Lab(prefix, state);
  }

  /** Labs with a state dir on this machine. */
  static list(): string[] {
    try {
      return readdirSync(STATE_ROOT).filter((p) => PREFIX_PATTERN.test(p));
    } catch {
      return [];
    }
  }

  static async up(prefix: string, opts: UpOptions = {}): Promise<Lab> {
    checkPrefix(prefix);
    const faults = checkFaultNames(opts.faults ?? []);
    const reason = labUnavailableReason();
    if (reason) throw new EnvironmentError(`cannot build the lab: ${reason}`, LAB_PACKAGES_HINT);
    const log = opts.log ?? (() => {});
    if (Lab.exists(prefix)) {
      log(`lab ${prefix}: tearing down the one that is already there`);
      await Lab.destroy(prefix);
    }
    const started = Date.now();
    mkdirSync(join(stateDirOf(prefix), 'logs'), { recursive: true, mode: 0o700 });
    const lab = new Lab(prefix, {
      version: 1, prefix, createdAt: new Date().toISOString(), ownerPid: process.pid, faults: [], world: { ...HEALTHY }, processes: {},
    });
    lab.save();
    try {
      log(`lab ${prefix}: namespaces, links, bridge, NAT`);
      await lab.buildTopology();
      log(`lab ${prefix}: servers (dnsmasq, OpenVPN, HTTP echo) and DHCP for pi-dns, pi-vpn, client`);
      await lab.startServers();
      if (faults.length) {
        log(`lab ${prefix}: faults ${faults.join(', ')}`);
        await lab.fault(...faults);
      }
    } catch (err) {
      if (process.env.NETDOCTOR_LAB_KEEP) throw err;
      await lab.down().catch(() => {});
      throw err;
    }
    log(`lab ${prefix}: up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return lab;
  }

  /** Tears down whatever exists of a lab with this prefix, with or without a readable state file. */
  static async destroy(prefix: string): Promise<void> {
    checkPrefix(prefix);
    let lab: Lab;
    try {
      lab = Lab.open(prefix);
    } catch {
      lab = new Lab(prefix, { version: 1, prefix, createdAt: '', ownerPid: 0, faults: [], world: { ...HEALTHY }, processes: {} });
    }
    await lab.down();
  }

  async down(): Promise<void> {
    await stopProcesses(Object.values(this.state.processes));
    const nss = existingNamespaces();
    const mine = ALL_NODES.map((n) => nsName(this.prefix, n)).filter((ns) => nss.has(ns));
    // Whatever else still runs inside the lab's own namespaces was started through the lab (exec, a test).
    for (const ns of mine) {
      const pids = (await run(['ip', 'netns', 'pids', ns])).stdout.split('\n').map(Number).filter((p) => p > 0);
      await stopProcesses(pids.map((pid) => ({ pid, startTime: processStartTime(pid) ?? '' })), 1000);
    }
    for (const ns of mine) await run(['ip', 'netns', 'del', ns]);
    this.removeFiles();
  }

  /** The same as {@link down}, synchronously: for exit and signal handlers. */
  downSync(): void {
    stopProcessesSync(Object.values(this.state.processes));
    const nss = existingNamespaces();
    const mine = ALL_NODES.map((n) => nsName(this.prefix, n)).filter((ns) => nss.has(ns));
    for (const ns of mine) {
      let out = '';
      try {
        out = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      } catch {
        // gone already
      }
      const pids = out.split('\n').map(Number).filter((p) => p > 0);
      stopProcessesSync(pids.map((pid) => ({ pid, startTime: processStartTime(pid) ?? '' })));
    }
    for (const ns of mine) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      } catch {
        // best effort in an exit path
      }
    }
    this.removeFiles();
  }

  private removeFiles(): void {
    for (const n of ALL_NODES) rmSync(join(NETNS_ETC, nsName(this.prefix, n)), { recursive: true, force: true });
    try {
      rmdirSync(NETNS_ETC); // only when no other lab (or anyone else) uses it
    } catch {
      // not empty, or not there
    }
    rmSync(this.stateDir, { recursive: true, force: true });
  }

  // ---------------------------------------------------------------- accessors

  ns(node: LabNode): string {
    return nsName(this.prefix, node);
  }

  get faults(): FaultName[] {
    return [...this.state.faults];
  }

  get ownerPid(): number {
    return this.state.ownerPid;
  }

  get leaseFile(): string {
    return routerLeaseFile(this.stateDir);
  }

  /** The second OpenVPN server, which drops any packet not signed with this key. */
  get tlsAuth(): { keyFile: string; direction: 0 | 1; digest: string; port: number; serverDirection: 0 | 1 } {
    return { keyFile: join(this.stateDir, 'pki', 'ta.key'), direction: 1, digest: VPN.digest, port: VPN.tlsAuthPort, serverDirection: VPN.serverDirection };
  }

  configYaml(): string {
    return labConfigYaml(this.stateDir);
  }

  /** Runs a command inside a node; a non-zero exit is returned, not thrown. */
  exec(node: LabNode, argv: readonly string[], opts: ExecOptions = {}): Promise<RunResult> {
    if (argv.length === 0) throw new UsageError('no command given to run in the lab node');
    return run(['ip', 'netns', 'exec', this.ns(node), ...argv], { timeoutMs: opts.timeoutMs ?? 30_000, input: opts.input, env: opts.env, cwd: opts.cwd });
  }

  // ---------------------------------------------------------------- faults

  async fault(...names: string[]): Promise<void> {
    const faults = addFaults(this.state.faults, checkFaultNames(names));
    await this.reconcile(faults);
  }

  async heal(): Promise<void> {
    await this.reconcile([]);
  }

  /** Brings the running lab from its current world to the one `faults` describe. */
  private async reconcile(faults: FaultName[]): Promise<void> {
    const from = this.state.world;
    const to = worldFor(faults);
    // Each step names the parts of the world it changes: after a failed step the saved world is
    // the one really reached, so the next reconcile (a heal) still undoes what did happen.
    const steps: Array<{ fields: Array<keyof World>; done: Promise<unknown> }> = [];
    const step = (fields: Array<keyof World>, done: Promise<unknown>) => steps.push({ fields, done });

    if (from.dnsServer !== to.dnsServer) step(['dnsServer'], to.dnsServer ? this.startPiDns() : this.stopService('pi-dns/dnsmasq'));
    if (from.vpnServers !== to.vpnServers) {
      step(['vpnServers'], to.vpnServers ? this.startVpn() : Promise.all([this.stopService('pi-vpn/openvpn'), this.stopService('pi-vpn/openvpn-tls-auth')]));
    }
    if (from.wan !== to.wan || from.wanUp !== to.wanUp) step(['wan', 'wanUp'], this.configureWan(to));
    if (from.rogue !== to.rogue) step(['rogue'], to.rogue ? this.addRogue() : this.removeRogue());
    if ((from.upnp ?? true) !== to.upnp) step(['upnp'], to.upnp ? this.startUpnp() : this.stopService('router/miniupnpd'));
    if (from.routerDhcp !== to.routerDhcp) step(['routerDhcp'], this.changeRouterDhcp(from, to));
    const results = await Promise.allSettled(steps.map((s) => s.done));
    const reached: World = { ...from };
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') for (const f of steps[i].fields) (reached as unknown as Record<string, unknown>)[f] = to[f];
    });
    this.state.faults = faults;
    this.state.world = reached;
    this.save();
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  // ---------------------------------------------------------------- building

  private async buildTopology(): Promise<void> {
    await Promise.all(NODES.map((n) => this.createNode(n)));
    const r = this.ns('router');
    const isp = this.ns('isp');
    const vps = this.ns('vps');

    // The LAN: a bridge in the router (the switch), one veth per machine, eth0 inside it.
    // A fixed MAC: otherwise the bridge takes the lowest MAC of its ports, and a port joining
    // (the rogue) can change the router's MAC under every neighbour's ARP entry.
    await ipn(r, 'link', 'add', LAN.bridge, 'address', '02:00:00:00:01:01', 'type', 'bridge', 'forward_delay', '0');
    await ipn(r, 'addr', 'add', `${LAN.router}/${LAN.prefix}`, 'dev', LAN.bridge);
    await ipn(r, 'link', 'set', LAN.bridge, 'up');
    await Promise.all(Object.entries(DHCP_CLIENTS).map(([node, c]) => this.plugIntoLan(node as LabNode, c.port, c.mac)));

    // The WAN: router wan0 into the isp's bridge (so cgnat can take the router's end away), isp ↔ vps.
    await ipn(isp, 'link', 'add', WAN.ispBridge, 'address', '02:00:00:00:02:01', 'type', 'bridge', 'forward_delay', '0');
    await ipn(isp, 'addr', 'add', `${WAN.ispIp}/${WAN.prefix}`, 'dev', WAN.ispBridge);
    await ipn(isp, 'addr', 'add', `${WAN.resolver}/${WAN.prefix}`, 'dev', WAN.ispBridge);
    await ipn(isp, 'link', 'set', WAN.ispBridge, 'up');
    await ipn(r, 'link', 'add', WAN.iface, 'type', 'veth', 'peer', 'name', WAN.ispPort, 'netns', isp);
    await ipn(isp, 'link', 'set', WAN.ispPort, 'master', WAN.ispBridge, 'up');
    await ipn(isp, 'link', 'add', VPS.ispIface, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', vps);
    await ipn(isp, 'addr', 'add', `${VPS.ispIp}/${VPS.prefix}`, 'dev', VPS.ispIface);
    await ipn(isp, 'link', 'set', VPS.ispIface, 'up');
    await ipn(vps, 'addr', 'add', `${VPS.ip}/${VPS.prefix}`, 'dev', 'eth0');
    await ipn(vps, 'link', 'set', 'eth0', 'up');
    await ipn(vps, 'route', 'add', 'default', 'via', VPS.ispIp);

    await inNs(r, 'busybox', 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
    await inNs(isp, 'busybox', 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
    // The bridge is a switch, not a firewall: keep LAN-to-LAN frames out of the router's iptables.
    await run(['ip', 'netns', 'exec', r, 'busybox', 'sysctl', '-qw', 'net.bridge.bridge-nf-call-iptables=0']);
    await this.configureWan(HEALTHY);
  }

  private async createNode(node: LabNode): Promise<void> {
    const ns = this.ns(node);
    await must(['ip', 'netns', 'add', ns]);
    // `ip netns exec` bind-mounts these over /etc: lab programs never see the host's resolver.
    mkdirSync(join(NETNS_ETC, ns), { recursive: true });
    writeFileSync(join(NETNS_ETC, ns, 'resolv.conf'), resolvConfFor(node));
    await ipn(ns, 'link', 'set', 'lo', 'up');
    // IPv4 only: no IPv6 autoconfiguration chatter on the lab's links.
    await inNs(ns, 'busybox', 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1');
  }

  private async plugIntoLan(node: LabNode, port: string, mac: string): Promise<void> {
    const r = this.ns('router');
    await ipn(r, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'address', mac, 'netns', this.ns(node));
    await ipn(r, 'link', 'set', port, 'master', LAN.bridge, 'up');
    await ipn(this.ns(node), 'link', 'set', 'eth0', 'up');
  }

  private async startServers(): Promise<void> {
    writeEchoSite(join(this.stateDir, 'www'));
    for (const node of Object.keys(DHCP_CLIENTS) as DhcpClientNode[]) {
      writeExecutable(this.udhcpcScriptPath(node), udhcpcScript(node, node === 'client' ? join(NETNS_ETC, this.ns('client'), 'resolv.conf') : undefined));
    }
    writeFileSync(join(this.stateDir, 'isp-dnsmasq.conf'), ispResolverConf(this.stateDir));
    writeFileSync(join(this.stateDir, 'pi-dns-dnsmasq.conf'), piDnsConf(this.stateDir));

    const isp = async () => {
      const dns = this.startService('isp', 'dnsmasq', dnsmasqArgv(join(this.stateDir, 'isp-dnsmasq.conf')));
      const http = this.startService('isp', 'httpd', httpdArgv(join(this.stateDir, 'www')));
      await Promise.all([this.waitListening(dns, 'isp', 'udp', 53), this.waitListening(http, 'isp', 'tcp', 80)]);
    };
    const lan = async () => {
      await this.startRouterDhcp(true);
      await Promise.all((Object.keys(DHCP_CLIENTS) as DhcpClientNode[]).map((n) => this.startUdhcpc(n)));
      await Promise.all((Object.keys(DHCP_CLIENTS) as DhcpClientNode[]).map((n) =>
        this.waitAddress(n, (a) => a === DHCP_CLIENTS[n].ip, `its reserved address ${DHCP_CLIENTS[n].ip}`)));
    };
    await Promise.all([isp(), lan(), this.startPiDns(), this.makePki().then(() => this.startVpn()), this.startUpnp()]);
  }

  private udhcpcScriptPath(node: DhcpClientNode): string {
    return join(this.stateDir, `udhcpc-${node}.sh`);
  }

  private async makePki(): Promise<Pki> {
    const dir = join(this.stateDir, 'pki');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return makePki(dir);
  }

  private pki(): Pki {
    const dir = join(this.stateDir, 'pki');
    return { dir, ca: join(dir, 'ca.crt'), cert: join(dir, 'server.crt'), key: join(dir, 'server.key'), tlsAuthKey: join(dir, 'ta.key') };
  }

  // ---------------------------------------------------------------- services

  private startService(node: LabNode, service: string, argv: string[]): ProcessRecord {
    const name = `${node}/${service}`;
    const rec = startDaemon(this.ns(node), argv, name, join(this.stateDir, 'logs', `${node}-${service}.log`));
    this.state.processes[name] = rec;
    this.save();
    return rec;
  }

  private async stopService(name: string): Promise<void> {
    const rec = this.state.processes[name];
    if (!rec) return;
    await stopProcesses([rec]);
    delete this.state.processes[name];
    this.save();
  }

  private async startRouterDhcp(reservations: boolean): Promise<void> {
    const conf = join(this.stateDir, 'router-dnsmasq.conf');
    writeFileSync(conf, routerDhcpConf(this.stateDir, { reservations }));
    const rec = this.startService('router', 'dnsmasq', dnsmasqArgv(conf));
    await this.waitListening(rec, 'router', 'udp', 67);
  }

  /** miniupnpd on the router (src/lab/upnp.ts): ready once its HTTP port listens. */
  private async startUpnp(): Promise<void> {
    const rec = this.startService('router', 'miniupnpd', await prepareMiniupnpd(this.stateDir, this.ns('router')));
    await this.waitListening(rec, 'router', 'tcp', UPNP_HTTP_PORT);
  }

  private async startPiDns(): Promise<void> {
    const rec = this.startService('pi-dns', 'dnsmasq', dnsmasqArgv(join(this.stateDir, 'pi-dns-dnsmasq.conf')));
    await this.waitListening(rec, 'pi-dns', 'udp', 53);
  }

  private async startVpn(): Promise<void> {
    const pki = this.pki();
    const plain = join(this.stateDir, 'openvpn.conf');
    const signed = join(this.stateDir, 'openvpn-tls-auth.conf');
    writeFileSync(plain, openvpnConf(pki, { port: VPN.port, subnet: '10.8.0.0', tlsAuth: false }));
    writeFileSync(signed, openvpnConf(pki, { port: VPN.tlsAuthPort, subnet: '10.9.0.0', tlsAuth: true }));
    const a = this.startService('pi-vpn', 'openvpn', openvpnArgv(plain));
    const b = this.startService('pi-vpn', 'openvpn-tls-auth', openvpnArgv(signed));
    await Promise.all([this.waitListening(a, 'pi-vpn', 'udp', VPN.port), this.waitListening(b, 'pi-vpn', 'udp', VPN.tlsAuthPort)]);
  }

  private startUdhcpc(node: DhcpClientNode): ProcessRecord {
    return this.startService(node, 'udhcpc', udhcpcArgv(node, this.udhcpcScriptPath(node)));
  }

  /** Unplug and plug back in: the DHCP client starts over, as a Pi does after losing power or its cable. */
  private async replug(node: DhcpClientNode): Promise<void> {
    const ns = this.ns(node);
    await this.stopService(`${node}/udhcpc`);
    await ipn(ns, 'link', 'set', 'eth0', 'down');
    await ipn(ns, '-4', 'addr', 'flush', 'dev', 'eth0');
    await ipn(ns, 'link', 'set', 'eth0', 'up');
    this.startUdhcpc(node);
  }

  private async changeRouterDhcp(from: World, to: World): Promise<void> {
    await this.stopService('router/dnsmasq');
    // The lease file goes with the reservations (the router was reset), and again when they come back,
    // so that healing leaves exactly the leases of a healthy lab.
    const clearLeases = to.routerDhcp === 'no-reservations' || from.routerDhcp === 'no-reservations';
    if (clearLeases) writeFileSync(this.leaseFile, '');
    if (to.routerDhcp !== 'off') await this.startRouterDhcp(to.routerDhcp === 'healthy');
    await Promise.all(PIS.map((n) => this.replug(n)));
    if (to.routerDhcp === 'healthy' && clearLeases) this.renewLease('client');

    const expect = (node: DhcpClientNode): [(a: string) => boolean, string] => {
      if (to.rogue) return [() => true, 'an address from either DHCP server'];
      if (to.routerDhcp === 'off') return [(a) => a === linkLocalFor(DHCP_CLIENTS[node].mac), `its link-local fallback ${linkLocalFor(DHCP_CLIENTS[node].mac)}`];
      if (to.routerDhcp === 'no-reservations') return [inPool, `a pool address ${LAN.poolStart}-${LAN.poolEnd}`];
      return [(a) => a === DHCP_CLIENTS[node].ip, `its reserved address ${DHCP_CLIENTS[node].ip}`];
    };
    await Promise.all(PIS.map((n) => this.waitAddress(n, ...expect(n))));
    if (to.routerDhcp === 'healthy' && clearLeases) {
      await waitFor('the client\'s lease to be back in the router\'s lease file', () => this.leases().some((l) => l.mac === DHCP_CLIENTS.client.mac), { timeoutMs: 15_000 });
    }
  }

  /** SIGUSR1 makes udhcpc renew its lease now. */
  private renewLease(node: DhcpClientNode): void {
    const rec = this.state.processes[`${node}/udhcpc`];
    if (rec && isAlive(rec)) process.kill(rec.pid, 'SIGUSR1');
  }

  /** The router's lease file: `expiry mac ip hostname clientid` per line. */
  leases(): Array<{ mac: string; ip: string; hostname: string }> {
    let text = '';
    try {
      text = readFileSync(this.leaseFile, 'utf8');
    } catch {
      return [];
    }
    return text.split('\n').filter(Boolean).map((l) => {
      const [, mac, ip, hostname] = l.split(' ');
      return { mac, ip, hostname };
    });
  }

  private async configureWan(w: World): Promise<void> {
    const r = this.ns('router');
    const isp = this.ns('isp');
    const cg = this.ns('cgnat');
    const cgnatExists = existingNamespaces().has(cg);

    if (w.wan === 'cgnat' && !cgnatExists) {
      // A carrier NAT between router and isp: it takes the isp's end of the router's link.
      await this.createNode('cgnat');
      await ipn(isp, 'link', 'set', WAN.ispPort, 'netns', cg);
      await ipn(cg, 'addr', 'add', `${CGNAT.gatewayIp}/${CGNAT.prefix}`, 'dev', WAN.ispPort);
      await ipn(cg, 'link', 'set', WAN.ispPort, 'up');
      await ipn(isp, 'link', 'add', CGNAT.ispPort, 'type', 'veth', 'peer', 'name', 'up0', 'netns', cg);
      await ipn(isp, 'link', 'set', CGNAT.ispPort, 'master', WAN.ispBridge, 'up');
      await ipn(cg, 'addr', 'add', `${CGNAT.publicIp}/${WAN.prefix}`, 'dev', 'up0');
      await ipn(cg, 'link', 'set', 'up0', 'up');
      await ipn(cg, 'route', 'add', 'default', 'via', WAN.ispIp);
      await inNs(cg, 'busybox', 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
      await must(['ip', 'netns', 'exec', cg, 'iptables-restore'], { input: cgnatNat() });
    } else if (w.wan !== 'cgnat' && cgnatExists) {
      // Give the router's link back to the isp before the carrier NAT (and its veth to the isp) goes.
      await ipn(cg, 'link', 'set', WAN.ispPort, 'netns', isp);
      await ipn(isp, 'link', 'set', WAN.ispPort, 'master', WAN.ispBridge, 'up');
      await must(['ip', 'netns', 'del', cg]);
      rmSync(join(NETNS_ETC, cg), { recursive: true, force: true });
    }

    const wanIp = w.wan === 'cgnat' ? CGNAT.routerIp : w.wan === 'moved' ? WAN.routerIpMoved : WAN.routerIp;
    const prefix = w.wan === 'cgnat' ? CGNAT.prefix : WAN.prefix;
    const gateway = w.wan === 'cgnat' ? CGNAT.gatewayIp : WAN.ispIp;
    await ipn(r, '-4', 'addr', 'flush', 'dev', WAN.iface);
    await ipn(r, 'addr', 'add', `${wanIp}/${prefix}`, 'dev', WAN.iface);
    await ipn(r, 'link', 'set', WAN.iface, w.wanUp ? 'up' : 'down');
    if (w.wanUp) await ipn(r, 'route', 'replace', 'default', 'via', gateway, 'dev', WAN.iface);
    await must(['ip', 'netns', 'exec', r, 'iptables-restore'], { input: routerNat(wanIp) });
  }

  private async addRogue(): Promise<void> {
    await this.createNode('rogue');
    await this.plugIntoLan('rogue', ROGUE.port, ROGUE.mac);
    await ipn(this.ns('rogue'), 'addr', 'add', `${ROGUE.ip}/${LAN.prefix}`, 'dev', 'eth0');
    const conf = join(this.stateDir, 'rogue-dnsmasq.conf');
    writeFileSync(conf, rogueDhcpConf(this.stateDir));
    const rec = this.startService('rogue', 'dnsmasq', dnsmasqArgv(conf));
    await this.waitListening(rec, 'rogue', 'udp', 67);
  }

  private async removeRogue(): Promise<void> {
    await this.stopService('rogue/dnsmasq');
    const ns = this.ns('rogue');
    if (existingNamespaces().has(ns)) await must(['ip', 'netns', 'del', ns]);
    rmSync(join(NETNS_ETC, ns), { recursive: true, force: true });
    rmSync(join(this.stateDir, 'rogue.leases'), { force: true });
  }

  // ---------------------------------------------------------------- readiness

  /** Waits until a server listens, failing fast (with its log) when it died instead. */
  private async waitListening(rec: ProcessRecord, node: LabNode, proto: 'udp' | 'tcp', port: number): Promise<void> {
    await waitFor(`${rec.name} to listen on ${proto} ${port}`, async () => {
      if (!isAlive(rec)) throw new Error(`${rec.name} exited while starting${logTail(rec.log)}`);
      return (await this.listening(node, proto)).includes(port);
    }, { timeoutMs: 15_000, detail: () => logTail(rec.log) });
  }

  /** Ports with a listening socket in a node. */
  async listening(node: LabNode, proto: 'udp' | 'tcp'): Promise<number[]> {
    const r = await run(['ip', 'netns', 'exec', this.ns(node), 'ss', '-Hln', proto === 'udp' ? '-u' : '-t']);
    const ports: number[] = [];
    for (const line of r.stdout.split('\n')) {
      const local = line.trim().split(/\s+/)[3];
      const m = local && /:(\d+)$/.exec(local);
      if (m) ports.push(Number(m[1]));
    }
    return ports;
  }

  /** IPv4 addresses of an interface in a node, as `a.b.c.d`. */
  async addresses(node: LabNode, iface = 'eth0'): Promise<string[]> {
    const r = await run(['ip', '-n', this.ns(node), '-j', '-4', 'addr', 'show', 'dev', iface]);
    if (r.code !== 0) return [];
    const links = JSON.parse(r.stdout || '[]') as Array<{ addr_info?: Array<{ local: string }> }>;
    return links.flatMap((l) => (l.addr_info ?? []).map((a) => a.local));
  }

  private async waitAddress(node: DhcpClientNode, ok: (addr: string) => boolean, what: string): Promise<string> {
    let last: string[] = [];
    return waitFor(`${node} to get ${what} by DHCP`, async () => {
      last = await this.addresses(node);
      return last.find(ok);
    }, {
      timeoutMs: 30_000,
      detail: () => `${node} has ${last.join(', ') || 'no address'}${logTail(this.state.processes[`${node}/udhcpc`]?.log)}`,
    });
  }

  // ---------------------------------------------------------------- status

  async status(): Promise<LabStatus> {
    const nss = existingNamespaces();
    const nodes = await Promise.all(ALL_NODES.filter((n) => (NODES as readonly string[]).includes(n) || nss.has(this.ns(n))).map(async (node) => {
      const namespace = this.ns(node);
      const exists = nss.has(namespace);
      let addresses: LabStatus['nodes'][number]['addresses'] = [];
      if (exists) {
        const r = await run(['ip', '-n', namespace, '-j', '-4', 'addr', 'show']);
        const links = JSON.parse(r.stdout || '[]') as Array<{ ifname: string; operstate: string; addr_info?: Array<{ local: string; prefixlen: number }> }>;
        addresses = links.filter((l) => l.ifname !== 'lo').flatMap((l) =>
          (l.addr_info ?? []).map((a) => ({ iface: l.ifname, cidr: `${a.local}/${a.prefixlen}`, state: l.operstate.toLowerCase() })));
      }
      return { node, namespace, exists, addresses };
    }));
    const processes = Object.values(this.state.processes).map((p) => ({ name: p.name, pid: p.pid, running: isAlive(p) }));
    return {
      prefix: this.prefix,
      stateDir: this.stateDir,
      up: nodes.filter((n) => (NODES as readonly string[]).includes(n.node)).every((n) => n.exists),
      faults: this.faults,
      nodes,
      processes,
    };
  }

  private save(): void {
    const file = join(this.stateDir, 'state.json');
    if (!existsSync(this.stateDir)) return;
    writeFileSync(`${file}.tmp`, `${JSON.stringify(this.state, null, 2)}\n`);
    renameSync(`${file}.tmp`, file);
  }
}

function inPool(addr: string): boolean {
  const n = ipToInt(addr);
  return inSubnet(addr, parseCidr(LAN.cidr)!) && n >= ipToInt(LAN.poolStart) && n <= ipToInt(LAN.poolEnd);
}

function resolvConfFor(node: LabNode): string {
  switch (node) {
    case 'client': return '# written by udhcpc from the DHCP offer\n';
    case 'pi-dns': return 'nameserver 127.0.0.1\n';
    case 'pi-vpn': return `nameserver ${DHCP_CLIENTS['pi-dns'].ip}\n`;
    case 'router': return `nameserver ${DHCP_CLIENTS['pi-dns'].ip}\n`;
    case 'rogue': return `nameserver ${ROGUE.ip}\n`;
    default: return `nameserver ${WAN.resolver}\n`;
  }
}

/** The router's NAT: masquerade the LAN out of wan0, forward UDP 1194 on the WAN address to pi-vpn, and hairpin it for LAN clients. */
function routerNat(wanIp: string): string {
  const to = `${DHCP_CLIENTS['pi-vpn'].ip}:${VPN.port}`;
  return [
    '*nat',
    ':PREROUTING ACCEPT [0:0]',
    ':INPUT ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':POSTROUTING ACCEPT [0:0]',
    `-A PREROUTING -d ${wanIp}/32 -i ${WAN.iface} -p udp -m udp --dport ${VPN.port} -j DNAT --to-destination ${to}`,
    `-A PREROUTING -d ${wanIp}/32 -i ${LAN.bridge} -p udp -m udp --dport ${VPN.port} -j DNAT --to-destination ${to}`,
    `-A POSTROUTING -s ${LAN.cidr} -d ${DHCP_CLIENTS['pi-vpn'].ip}/32 -p udp -m udp --dport ${VPN.port} -m conntrack --ctstate DNAT -j MASQUERADE`,
    `-A POSTROUTING -s ${LAN.cidr} -o ${WAN.iface} -j MASQUERADE`,
    'COMMIT',
    '',
  ].join('\n');
}

function cgnatNat(): string {
  return ['*nat', ':PREROUTING ACCEPT [0:0]', ':INPUT ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':POSTROUTING ACCEPT [0:0]',
    `-A POSTROUTING -s 100.64.0.0/${CGNAT.prefix} -o up0 -j MASQUERADE`, 'COMMIT', ''].join('\n');
}

function logTail(file: string | undefined, lines = 8): string {
  if (!file) return '';
  try {
    const text = readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    return text ? `\n--- last lines of ${file} ---\n${text}` : '';
  } catch {
    return '';
  }
}
