/**
 * Is the OpenVPN server answering, where it should be and where the router
 * sends the world? A credential-less handshake (net/openvpn.ts) to:
 *
 * inside (default)
 *   - `expected`: the VPN host's configured address (`hosts[]` entry named by
 *     `vpn.host`, or the first host with role `vpn`);
 *   - `found`: where the hosts probe found that host's MAC, when it moved;
 *   - `forward`: every `router.forwards` target for the VPN protocol and port,
 *     so a forward left pointing at the old address is caught.
 * outside (`--vantage outside`, e.g. cron on a VPS)
 *   - `resolve` the public name (`vpn.publicName`, default `ddns.hostname`), then
 *   - `public`: a handshake to each address it resolves to: the internet path
 *     through the DDNS name and the port forward.
 *
 * The public address is deliberately not tried from inside: that tests the
 * router's NAT loopback (hairpinning), which many home routers lack, not the
 * path the outside world takes.
 *
 * One handshake per distinct endpoint; an endpoint that plays several roles
 * (the forward target is usually the expected address) gets one observation
 * per role, carrying the same result, so rules can ask about each role.
 */
import { hostByName, hostsWithRole, type Config } from '../config/resolve.js';
import { anySignal } from '../shared/abort.js';
import { inSubnet, isIPv4 } from '../shared/ipv4.js';
import { didYouMean } from '../shared/suggest.js';
import { addressesOf, queryDns, type DnsResult } from './net/dns-client.js';
import { readNeighbours } from './net/neighbours.js';
import type { HandshakeResult } from './net/openvpn.js';
import { loadHandshaker, notConfigured, type Handshaker, type Protection } from './vpn-handshaker.js';
import { verdictOf, type Checked, type Presence } from './vpn-verdict.js';

export { verdictOf } from './vpn-verdict.js';
export type { Presence } from './vpn-verdict.js';
import { ping } from './net/ping.js';
import type { Observation, Probe, ProbeContext } from './types.js';

export type VpnTarget = 'expected' | 'found' | 'forward' | 'public' | 'nat-loopback';

export interface HandshakeData {
  address: string;
  port: number;
  proto: 'udp' | 'tcp';
  target: VpnTarget;
  /** Every role this endpoint plays in this run (`expected`, `forward`…); `target` is this observation's. */
  targets: VpnTarget[];
  /** openvpn or wireguard. */
  kind?: Handshaker['kind'];
  /** What protected the handshake (tls-auth, tls-crypt, tls-crypt-v2, netdoctor's WireGuard peer…). */
  protection?: Protection;
  /** A key the server must know was used (tls-auth, tls-crypt, WireGuard peer). */
  signed: boolean;
  serverSessionId?: string;
  attempts: number;
  /** Socket error behind refused / host-unreachable / no-route, e.g. `ECONNREFUSED`. */
  errorCode?: string;
  /** Packets that came back but were not an answer to our reset (wrong session, bad HMAC…). */
  ignored: number;
  ignoredWhy?: string;
  elapsedMs: number;
  /** The `router.forwards` entry behind a `forward` target: its public port. */
  forwardPort?: number;
  /** The host's configured address, on `found` observations. */
  expectedAddress?: string;
  /** After silence: is a host at the address at all (ping, ARP)? */
  presence?: Presence;
}

export interface ResolveData {
  name: string;
  addresses: string[];
  resolvers: string[];
  rcode?: string;
}

/** Answers normally arrive in milliseconds; silence is given this long (ARP failure takes ~3 s to surface). */
export const HANDSHAKE_TIMEOUT_MS = 4000;
/** Kept free before the run's deadline so the last observation is still emitted in time. */
const DEADLINE_MARGIN_MS = 250;
const MAX_PUBLIC_ADDRESSES = 4;
/** After this long without an answer, start checking whether a host is there at all. */
const PRESENCE_AFTER_MS = 1000;
const PRESENCE_PING_MS = 1500;

type Role = { target: VpnTarget; forwardPort?: number; expectedAddress?: string };

/** One handshake per distinct endpoint, shared by every role that points there. */
class Handshakes {
  private readonly byEndpoint = new Map<string, { result: Promise<Checked | undefined>; targets: VpnTarget[] }>();
  constructor(
    private readonly ctx: ProbeContext,
    private readonly handshaker: Handshaker,
    private readonly hostLabel: string,
  ) {}

  /** Handshakes (or joins the handshake already under way) and emits this role's observation. */
  async check(address: string, port: number, proto: 'udp' | 'tcp', role: Role): Promise<void> {
    const key = `${address}:${port}/${proto}`;
    let entry = this.byEndpoint.get(key);
    if (!entry) {
      entry = { result: this.handshake(address, port, proto), targets: [] };
      this.byEndpoint.set(key, entry);
    }
    entry.targets.push(role.target);
    const result = await entry.result;
    if (result) emitHandshake(this.ctx, this.handshaker, result, role, entry.targets, this.hostLabel);
  }

  private async handshake(address: string, port: number, proto: 'udp' | 'tcp'): Promise<Checked | undefined> {
    const timeoutMs = Math.min(HANDSHAKE_TIMEOUT_MS, this.ctx.deadline - Date.now() - DEADLINE_MARGIN_MS);
    if (timeoutMs <= 0) return undefined;
    const started = Date.now();
    // Silence needs a second question — is anybody there? — asked while the handshake still waits, so it costs no extra time.
    // Its pings stop when the handshake answers: nothing of this probe may outlive its report.
    const stopPresence = new AbortController();
    const { signal, dispose } = anySignal([this.ctx.signal, stopPresence.signal]);
    let presence: Promise<Presence> | undefined;
    const early = setTimeout(() => (presence = hostPresence(this.ctx, address, started, signal)), PRESENCE_AFTER_MS);
    try {
      const r = await this.handshaker.handshake({ address, port, proto, timeoutMs, signal: this.ctx.signal });
      clearTimeout(early);
      if (r.outcome === 'aborted') return undefined;
      if (r.outcome !== 'no-reply') return r;
      return { ...r, presence: await (presence ?? hostPresence(this.ctx, address, started, signal)) };
    } finally {
      clearTimeout(early);
      stopPresence.abort();
      dispose();
    }
  }
}

/**
 * Is a host at `address` at all? An echo reply says yes; on the LAN, an ARP
 * answer confirmed since the handshake began says yes too (a host may drop
 * ping). Neither, while ping itself worked: nobody is there.
 */
async function hostPresence(ctx: ProbeContext, address: string, sinceMs: number, signal: AbortSignal): Promise<Presence> {
  const timeoutMs = Math.min(PRESENCE_PING_MS, ctx.deadline - Date.now() - DEADLINE_MARGIN_MS);
  if (timeoutMs <= 0) return { evidence: 'no time left to check' };
  const p = await ping(address, { count: 3, intervalMs: 400, timeoutMs, signal });
  if (p.received > 0) return { present: true, evidence: 'answers ping' };
  const { interface: iface, subnet } = ctx.config;
  if (iface && subnet && inSubnet(address, subnet)) {
    try {
      const entry = (await readNeighbours(iface, { signal: ctx.signal, timeoutMs: 1000 })).entries.find((e) => e.ip === address);
      if (entry?.mac && entry.confirmedS !== undefined && entry.confirmedS * 1000 <= Date.now() - sinceMs) {
        return { present: true, evidence: `answers ARP (${entry.mac}) but not ping` };
      }
    } catch {
      // The neighbour table is extra evidence only; ping's answer stands.
    }
  }
  if (p.error) return { evidence: `could not ping: ${p.error}` };
  return { present: false, evidence: 'no reply to ping either' };
}

export const vpnProbe: Probe = {
  name: 'vpn',
  title: 'The VPN (OpenVPN or WireGuard) answers a handshake at the VPN host, the port-forward target and (outside) the public name',
  vantages: ['inside', 'outside'],
  async run(ctx) {
    const { vpn } = ctx.config;
    const handshaker = await loadHandshaker(ctx);
    if (handshaker === null) return;
    if (ctx.vantage === 'outside') return runOutside(ctx, handshaker);

    const host = vpnHost(ctx);
    if (host === null) return;
    const forwards = ctx.config.router.forwards.filter((f) => f.proto === vpn.proto && (f.toPort ?? f.port) === vpn.port);
    if (!host && forwards.length === 0) {
      notConfigured(ctx, 'nothing to check: name the VPN host (vpn.host, or a hosts[] entry with role vpn) or its port forward (router.forwards)');
      return;
    }
    const hs = new Handshakes(ctx, handshaker, host?.name ?? '');
    const checks: Array<Promise<void>> = [];
    if (host) checks.push(hs.check(host.ip, vpn.port, vpn.proto, { target: 'expected' }));
    for (const f of forwards) checks.push(hs.check(f.to, f.toPort ?? f.port, vpn.proto, { target: 'forward', forwardPort: f.port }));
    // The hosts probe may still be sweeping: the handshakes above do not wait for it.
    if (host) checks.push(followMovedHost(ctx, hs, host));
    await Promise.all(checks);
  },
};

/** Where the hosts probe found the VPN host's MAC, when that is not its configured address. */
async function followMovedHost(ctx: ProbeContext, hs: Handshakes, host: { name: string; ip: string }): Promise<void> {
  const hosts = await ctx.resultsOf('hosts');
  const obs = hosts?.find((o) => o.check === 'host' && o.subject === host.name);
  const actual = (obs?.data as { actualIp?: string } | undefined)?.actualIp;
  if (!actual || !isIPv4(actual) || actual === host.ip) return;
  await hs.check(actual, ctx.config.vpn.port, ctx.config.vpn.proto, { target: 'found', expectedAddress: host.ip });
}

function emitHandshake(
  ctx: ProbeContext,
  handshaker: Handshaker,
  r: Checked,
  role: Role,
  targets: VpnTarget[],
  hostLabel: string,
): Observation {
  const where = `${r.address}:${r.port}/${r.proto}`;
  const what = describeTarget(role, ctx.config, hostLabel);
  const data: HandshakeData = {
    address: r.address,
    port: r.port,
    proto: r.proto,
    target: role.target,
    targets: [...new Set(targets)],
    kind: handshaker.kind,
    protection: handshaker.protection,
    signed: r.signed,
    attempts: r.attempts,
    ignored: r.ignored,
    elapsedMs: r.elapsedMs,
    ...(r.serverSessionId ? { serverSessionId: r.serverSessionId } : {}),
    ...(r.errorCode ? { errorCode: r.errorCode } : {}),
    ...(r.ignoredWhy ? { ignoredWhy: r.ignoredWhy } : {}),
    ...(role.forwardPort !== undefined ? { forwardPort: role.forwardPort } : {}),
    ...(role.expectedAddress ? { expectedAddress: role.expectedAddress } : {}),
    ...(r.presence ? { presence: r.presence } : {}),
  };
  const verdict = verdictOf(r, where, what, handshaker);
  return ctx.emit({
    check: 'handshake',
    subject: where,
    status: verdict.status,
    reason: verdict.reason,
    summary: verdict.summary,
    labels: { target: role.target, host: hostLabel, address: r.address, port: String(r.port), proto: r.proto },
    values: { ok: r.outcome === 'answered' ? 1 : 0, ...(r.rttMs !== undefined ? { rtt_ms: r.rttMs } : {}) },
    data,
    durationMs: r.elapsedMs,
  });
}

function describeTarget(role: Role, config: Config, hostLabel: string): string {
  switch (role.target) {
    case 'expected':
      return `${hostLabel || 'the VPN host'}'s configured address`;
    case 'found':
      return `${hostLabel || 'the VPN host'}'s current address, moved from ${role.expectedAddress}`;
    case 'forward':
      return `the router's port forward ${config.vpn.proto}/${role.forwardPort} target`;
    case 'public':
      return `the public name ${config.vpn.publicName}`;
    case 'nat-loopback':
      return 'the public address from inside (NAT loopback)';
  }
}

/**
 * The VPN host: the hosts[] entry `vpn.host` names (the config loader has
 * checked that it exists), or the first host with role `vpn`. Undefined when
 * neither is configured; null after reporting a name that matches nothing.
 */
function vpnHost(ctx: ProbeContext): { name: string; ip: string } | undefined | null {
  const { config } = ctx;
  const name = config.vpn.host;
  if (name === undefined) return hostsWithRole(config, 'vpn')[0];
  const host = hostByName(config, name);
  if (host) return host;
  notConfigured(ctx, `vpn.host ${JSON.stringify(name)} is not one of hosts[].name${didYouMean(name, config.hosts.map((h) => h.name))}`);
  return null;
}

/**
 * Resolvers for the public name, asked in turn: this machine's DNS servers
 * (`dns.servers`, default /etc/resolv.conf) — what an OpenVPN client here
 * would use — then `ddns.resolvers`.
 */
function publicResolvers(config: Config): string[] {
  return [...new Set([...config.dns.servers, ...config.ddns.resolvers])].filter(isIPv4);
}

async function runOutside(ctx: ProbeContext, handshaker: Handshaker): Promise<void> {
  const { vpn } = ctx.config;
  const name = vpn.publicName;
  if (!name) {
    notConfigured(ctx, 'from outside there is nothing to check without a public name: set vpn.publicName (or ddns.hostname)');
    return;
  }
  const resolvers = publicResolvers(ctx.config);
  if (resolvers.length === 0) {
    notConfigured(ctx, `no DNS server to resolve ${name}: set dns.servers or ddns.resolvers (this machine's /etc/resolv.conf has none)`);
    return;
  }
  const started = Date.now();
  const res = await resolveName(ctx, name, resolvers);
  const addresses = res.addresses.slice(0, MAX_PUBLIC_ADDRESSES);
  ctx.emit({
    check: 'resolve',
    subject: name,
    status: res.status,
    reason: res.reason,
    summary: res.summary,
    labels: { name },
    data: { name, addresses: res.addresses, resolvers: res.asked, ...(res.rcode ? { rcode: res.rcode } : {}) } satisfies ResolveData,
    durationMs: Date.now() - started,
  });
  const hs = new Handshakes(ctx, handshaker, vpn.host ?? '');
  await Promise.all(addresses.map((a) => hs.check(a, vpn.port, vpn.proto, { target: 'public' })));
}

interface Resolution {
  status: Observation['status'];
  reason: string;
  summary: string;
  addresses: string[];
  asked: string[];
  rcode?: string;
}

/** Asks the resolvers in turn until one gives an answer (NOERROR with addresses, or NXDOMAIN). */
async function resolveName(ctx: ProbeContext, name: string, resolvers: string[]): Promise<Resolution> {
  const asked: string[] = [];
  let last: DnsResult | undefined;
  for (const server of resolvers) {
    if (ctx.signal.aborted || Date.now() >= ctx.deadline - DEADLINE_MARGIN_MS) break;
    asked.push(server);
    const r = await queryDns({ server, name, type: 'A', timeoutMs: 1000, attempts: 2, deadline: ctx.deadline - DEADLINE_MARGIN_MS, signal: ctx.signal });
    last = r;
    const addresses = addressesOf(r);
    if (addresses.length > 0) {
      return { status: 'ok', reason: 'resolved', summary: `${name} resolves to ${addresses.join(', ')} (asked ${server})`, addresses, asked };
    }
    if (r.outcome === 'answered' && r.reply?.rcodeName === 'NXDOMAIN') {
      return { status: 'fail', reason: 'nxdomain', summary: `${name} does not exist (NXDOMAIN from ${server})`, addresses: [], asked, rcode: 'NXDOMAIN' };
    }
  }
  if (last?.outcome === 'answered' && last.reply) {
    const rcode = last.reply.rcodeName;
    return rcode === 'NOERROR'
      ? { status: 'fail', reason: 'no-answer', summary: `${name} has no address record (NOERROR, empty; asked ${asked.join(', ')})`, addresses: [], asked, rcode }
      : { status: 'fail', reason: rcode.toLowerCase(), summary: `${name} did not resolve: ${rcode} from ${last.server}`, addresses: [], asked, rcode };
  }
  return {
    status: 'fail',
    reason: 'timeout',
    summary: `${name} did not resolve: no answer from ${asked.join(', ') || 'any resolver'}${last?.error ? ` (${last.error})` : ''}`,
    addresses: [],
    asked,
  };
}
