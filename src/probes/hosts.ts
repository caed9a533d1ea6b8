/**
 * Where the configured hosts are now: at their address, moved (same MAC,
 * other address), missing, or their address taken by another MAC. Hosts are
 * known by MAC, never by IP alone: in the seed's outage the Pis came back on
 * other addresses and everything pointing at the old ones broke.
 *
 * How a host is found (one run, no state kept between runs):
 * 1. The subnet is swept (net/sweep.ts): every address is made to resolve by
 *    ARP, and a MAC counts at an address only with proof from this run (ARP
 *    learnt or confirmed during the sweep, or an echo reply sent to the MAC
 *    the kernel holds). A cached entry alone, REACHABLE or STALE, never
 *    counts. As root, cached entries that fail the echo are asked again.
 * 2. 169.254.x.y addresses in the neighbour table are resolved the same way;
 *    a configured MAC proven there has `moved` to that link-local address.
 * 3. A host still not found is looked for on the link by IPv6 (all-nodes
 *    echo): if its MAC answers, it is on the link without an address in the
 *    subnet (it probably fell back to link-local after losing DHCP). It is
 *    still reported `missing` (there is no IPv4 address to point at), with
 *    `onLink` and its fe80:: address, never "moved to unknown".
 *
 * 4. This machine's own interfaces (net/self.ts) are sightings too: a
 *    machine never sees its own MAC in its neighbour table, so the inventory
 *    host netdoctor runs on is found by its MAC on one of them ("this
 *    machine"), and the `self` observation records them as facts.
 *
 * Flapping: a host is `moved` only when its MAC is proven at another address
 * in this run, and `missing` when it is proven nowhere in this run. A host
 * that comes and goes therefore alternates between `at-expected` and
 * `missing`, never produces a string of moves to stale addresses.
 */
import { hostname } from 'node:os';
import type { HostConfig } from '../config/schema.js';
import { onAbort } from '../shared/abort.js';
import { formatDuration } from '../shared/duration.js';
import { errorMessage } from '../shared/errors.js';
import { compareIp, inSubnet, isLinkLocal, type Subnet } from '../shared/ipv4.js';
import { NeighbourTableError, readNeighbours } from './net/neighbours.js';
import { ping, pingBinary, type PingResult } from './net/ping.js';
import { readOwnInterfaces, type OwnInterface } from './net/self.js';
import { SweepScopeError, linkScan, resolveAddresses, sweep, type AliveHost, type LinkResponder, type SweepResult } from './net/sweep.js';
import type { Probe, ProbeContext } from './types.js';

export type HostReason = 'at-expected' | 'moved' | 'missing' | 'conflict';

export interface HostData {
  name: string;
  mac: string;
  roles: string[];
  expectedIp: string;
  actualIp?: string;
  conflictMac?: string;
  neighbourState?: string;
  rttMs?: number;
  lossPct?: number;
  /** Extension: how this run knows where the MAC is (`arp` confirmation, `echo` reply, or `self`: it is this machine). */
  evidence?: 'arp' | 'echo' | 'self';
  /** Extension: the host is the machine netdoctor runs on. */
  self?: true;
  /** Extension: the device holding the host's address is this machine (with another MAC). */
  conflictSelf?: true;
  /** Extension: further addresses where the same MAC was proven in this run. */
  alsoAt?: string[];
  /** Extension: the MAC answered on the link over IPv6 though no IPv4 address of it was found. */
  onLink?: boolean;
  /** Extension: its fe80:: address when `onLink`. */
  linkLocal6?: string;
  /** Extension: false when the subnet could not be swept, so only the expected address was checked. */
  searched?: boolean;
}

export interface SweepData {
  subnet: string;
  alive: Array<{ ip: string; mac: string; state: string; via: AliveHost['via'] }>;
  /** Extension: the first send error, if the kernel refused datagrams. */
  sendError?: string;
}

/** The `self` observation's data: the machine netdoctor runs on, as facts. */
export interface SelfData {
  hostname: string;
  /** The inventory host whose MAC is on one of this machine's interfaces. */
  host?: string;
  interfaces: OwnInterface[];
}

/** Where each MAC was proven in this run. */
export interface Sightings {
  byIp: Map<string, AliveHost>;
  byMac: Map<string, AliveHost[]>;
}

export function sightingsOf(alive: readonly AliveHost[]): Sightings {
  const byIp = new Map<string, AliveHost>();
  const byMac = new Map<string, AliveHost[]>();
  for (const a of alive) {
    byIp.set(a.ip, a);
    const list = byMac.get(a.mac) ?? [];
    list.push(a);
    byMac.set(a.mac, list);
  }
  // Prefer a subnet address over a link-local one, then the lowest address, so the verdict is stable.
  for (const list of byMac.values()) list.sort((x, y) => Number(isLinkLocal(x.ip)) - Number(isLinkLocal(y.ip)) || compareIp(x.ip, y.ip));
  return { byIp, byMac };
}

export interface HostVerdict {
  reason: HostReason;
  actual?: AliveHost;
  alsoAt: string[];
  conflictMac?: string;
  /** The device at the host's address is this machine. */
  conflictSelf?: boolean;
}

/** The rule, pure: what this run's sightings say about one host. */
export function judgeHost(host: Pick<HostConfig, 'mac' | 'ip'>, seen: Sightings): HostVerdict {
  const mine = seen.byMac.get(host.mac) ?? [];
  const atExpected = seen.byIp.get(host.ip);
  if (atExpected && atExpected.mac === host.mac) {
    return { reason: 'at-expected', actual: atExpected, alsoAt: mine.filter((a) => a.ip !== host.ip).map((a) => a.ip) };
  }
  const [actual, ...rest] = mine;
  const alsoAt = rest.map((a) => a.ip);
  if (atExpected) return { reason: 'conflict', conflictMac: atExpected.mac, alsoAt, ...(actual ? { actual } : {}), ...(atExpected.via === 'self' ? { conflictSelf: true } : {}) };
  if (actual) return { reason: 'moved', actual, alsoAt };
  return { reason: 'missing', alsoAt: [] };
}

const HOST_PING = { count: 3, intervalMs: 200 } as const;

export const hostsProbe: Probe = {
  name: 'hosts',
  title: 'Configured hosts: at their address, moved, missing, or their address taken (by MAC)',
  vantages: ['inside'],
  async run(ctx: ProbeContext): Promise<void> {
    const { config } = ctx;
    const iface = config.interface;
    if (!iface) {
      ctx.emit({
        check: 'probe', subject: 'hosts', status: 'error', reason: 'no-interface',
        summary: 'no network interface to sweep: set `interface` in netdoctor.yaml (the machine has no default route to take it from)',
      });
      return;
    }
    try {
      pingBinary();
    } catch (err) {
      ctx.emit({ check: 'probe', subject: 'hosts', status: 'error', reason: 'unsupported', summary: errorMessage(err) });
      return;
    }
    const me = await readOwnInterfaces({ signal: ctx.signal });
    emitSelf(ctx, me, config.hosts);
    const mine = selfSightings(me);
    const own = me.find((i) => i.name === iface)?.addresses.map((a) => a.ip) ?? [];
    // The sweep and the pings below must stay on the link: a subnet that is not on this interface
    // (a typo, the lab's config run elsewhere) would send them through the default gateway.
    if (config.subnet && !own.some((ip) => inSubnet(ip, config.subnet!))) {
      ctx.emit({
        check: 'probe', subject: 'hosts', status: 'error', reason: 'off-link',
        summary: `${iface} has no address in ${config.subnet.cidr}, so netdoctor will not sweep it (the traffic would leave the LAN); set "interface" to the LAN's interface or "subnet" to the LAN's range`,
      });
      // Where this machine is needs no traffic: the inventory host it is, judged by its own interfaces alone.
      const seen = sightingsOf(mine);
      for (const host of config.hosts.filter((h) => seen.byMac.has(h.mac))) emitHost(ctx, host, judgeHost(host, seen), undefined, undefined, config.subnet, false);
      return;
    }
    const budgetEnd = ctx.deadline - 200;

    // Latency and loss at the expected addresses, measured while the sweep runs (the echo also resolves them).
    // Once the sweep has shown nobody there, waiting for those echoes would only add time: they are stopped.
    const expected = uniq(config.hosts.map((h) => h.ip)).filter((ip) => !own.includes(ip));
    // One listener on the run's signal stops them all (AbortSignal.any per address left 50 on it: Node's warning).
    const stoppers = new Map(expected.map((ip) => [ip, new AbortController()]));
    const offRunAbort = onAbort(ctx.signal, () => stoppers.forEach((s) => s.abort()));
    const expectedPings = Promise.all(expected.map((ip) => ping(ip, {
      ...HOST_PING,
      timeoutMs: clamp(budgetEnd - Date.now() - 1500, 600, 1200),
      signal: stoppers.get(ip)!.signal,
    }))).finally(offRunAbort);

    let result: SweepResult | undefined;
    let checked: Omit<SweepResult, 'subnet'>;
    try {
      try {
        result = await sweep({ subnet: config.subnet, iface, force: ctx.options.force === true, signal: ctx.signal, deadline: budgetEnd - 1500, exclude: own });
        checked = result;
        emitSweep(ctx, result);
      } catch (err) {
        if (!(err instanceof SweepScopeError)) throw err;
        ctx.emit({
          check: 'sweep', subject: config.subnet?.network ?? 'subnet', status: 'error', reason: err.reason, summary: err.message,
          labels: config.subnet ? { subnet: config.subnet.cidr } : {},
          ...(config.subnet ? { data: { subnet: config.subnet.cidr, alive: [] } satisfies SweepData } : {}),
        });
        // Without a sweep the expected addresses can still be checked: the user named them.
        checked = await resolveAddresses(config.hosts.map((h) => h.ip), { iface, signal: ctx.signal, deadline: budgetEnd - 1500, exclude: own });
      }
    } catch (err) {
      if (err instanceof NeighbourTableError) {
        for (const stopper of stoppers.values()) stopper.abort();
        ctx.emit({ check: 'probe', subject: 'hosts', status: 'error', reason: err.kind === 'failed' ? 'unsupported' : err.kind, summary: err.message });
        return;
      }
      throw err;
    }
    if (config.hosts.length === 0) return;
    for (const [ip, stopper] of stoppers) if (!checked.alive.some((a) => a.ip === ip)) stopper.abort();
    const alive = [...checked.alive, ...mine];
    const wanted = new Set(config.hosts.map((h) => h.mac));
    const unseenAfterSweep = [...wanted].some((m) => !alive.some((a) => a.mac === m));

    // Steps 2 and 3 only for hosts the sweep did not find, side by side.
    let link: LinkResponder[] = [];
    if (unseenAfterSweep && Date.now() < budgetEnd - 800) {
      const [ll, scan] = await Promise.all([
        linkLocalSightings(iface, wanted, own, clamp(budgetEnd - Date.now() - 500, 300, 2000), ctx.signal),
        // About a second: only when the deadline leaves room for it.
        Date.now() < budgetEnd - 1800 ? linkScan(iface, { signal: ctx.signal }) : Promise.resolve({ responders: [] }),
      ]);
      alive.push(...ll);
      link = scan.responders;
    }
    const seen = sightingsOf(alive);

    const verdicts = config.hosts.map((h) => ({ host: h, verdict: judgeHost(h, seen) }));
    // Hosts found elsewhere get their latency measured where they are now, while the expected addresses finish.
    const elsewhere = uniq(verdicts.filter((v) => v.verdict.actual && v.verdict.actual.ip !== v.host.ip).map((v) => v.verdict.actual!.ip));
    const [atExpected, atElsewhere] = await Promise.all([
      expectedPings,
      Promise.all(elsewhere.map((ip) => ping(ip, {
        // Measured after the sweep, so on the critical path: the same three echoes, closer together.
        ...HOST_PING,
        intervalMs: 100,
        timeoutMs: clamp(budgetEnd - Date.now(), 300, 1200),
        signal: ctx.signal,
        ...(isLinkLocal(ip) ? { iface } : {}),
      }))),
    ]);
    const pingsAtExpected = new Map(atExpected.map((p) => [p.target, p]));
    const elsewherePings = new Map(atElsewhere.map((p) => [p.target, p]));

    for (const { host, verdict } of verdicts) {
      const where = verdict.actual?.ip;
      const measured = where === undefined ? undefined : where === host.ip ? pingsAtExpected.get(where) : elsewherePings.get(where);
      const onLink = verdict.reason === 'missing' ? link.find((r) => r.mac === host.mac) : undefined;
      emitHost(ctx, host, verdict, measured, onLink, config.subnet, result !== undefined);
    }
  },
};

function emitSweep(ctx: ProbeContext, r: SweepResult): void {
  const alive = r.alive.map((a) => ({ ip: a.ip, mac: a.mac, state: a.state, via: a.via }));
  ctx.emit({
    check: 'sweep',
    subject: r.subnet.network,
    status: 'ok',
    reason: 'swept',
    summary: `${alive.length} of ${r.addresses} addresses in ${r.subnet.cidr} answered (${Math.round(r.durationMs)} ms)${r.sendError ? `; some datagrams were refused: ${r.sendError}` : ''}`,
    labels: { subnet: r.subnet.cidr },
    values: { alive: alive.length, addresses: r.addresses, sweep_ms: Math.round(r.durationMs) },
    data: { subnet: r.subnet.cidr, alive, ...(r.sendError ? { sendError: r.sendError } : {}) } satisfies SweepData,
    durationMs: r.durationMs,
  });
}

function emitHost(
  ctx: ProbeContext,
  host: HostConfig,
  v: HostVerdict,
  measured: PingResult | undefined,
  onLink: LinkResponder | undefined,
  subnet: Subnet | undefined,
  searched: boolean,
): void {
  const actualIp = v.actual?.ip;
  const present = v.actual !== undefined;
  // A ping that could not measure (no permission, cut by the deadline) says nothing about loss.
  const usable = measured && !measured.error ? measured : undefined;
  const lossPct = present ? usable?.lossPct : 100;
  const rttMs = present ? usable?.avgRttMs : undefined;
  const data: HostData = {
    name: host.name,
    mac: host.mac,
    roles: [...(host.roles ?? [])],
    expectedIp: host.ip,
    ...(actualIp ? { actualIp } : {}),
    ...(v.conflictMac ? { conflictMac: v.conflictMac } : {}),
    ...(v.conflictSelf ? { conflictSelf: true as const } : {}),
    ...(v.actual ? { evidence: v.actual.via, ...(v.actual.via === 'self' ? { self: true as const } : { neighbourState: v.actual.state }) } : {}),
    ...(rttMs !== undefined ? { rttMs } : {}),
    ...(lossPct !== undefined ? { lossPct } : {}),
    ...(v.alsoAt.length ? { alsoAt: v.alsoAt } : {}),
    ...(onLink ? { onLink: true, linkLocal6: onLink.address } : {}),
    ...(!searched ? { searched: false } : {}),
  };
  const where = subnet ? ` in ${subnet.cidr}` : '';
  const rtt = rttMs !== undefined ? `, ${formatDuration(rttMs, { spaced: true, fine: true })}` : '';
  const loss = lossPct !== undefined && lossPct > 0 && present ? `, ${lossPct}% loss` : '';
  const me = data.self ? ', this machine,' : '';
  const summary = {
    'at-expected': `${host.name} (${host.mac})${me} is at ${host.ip}${rtt}${loss}`,
    moved: `${host.name} (${host.mac})${me} has moved from ${host.ip} to ${actualIp}${actualIp && isLinkLocal(actualIp) ? ' (link-local: it lost its DHCP lease)' : ''}${rtt}${loss}`,
    conflict: `${v.conflictSelf ? `this machine (${v.conflictMac}) holds` : `another device (${v.conflictMac}) answers at`} ${host.name}'s address ${host.ip}; ${host.name} ${actualIp ? `is at ${actualIp}` : 'was not found'}`,
    missing: onLink
      ? `${host.name} (${host.mac}) has no address${where}: it answers on the link over IPv6 (${onLink.address}), so it is connected but probably fell back to a link-local address after losing DHCP`
      : searched
        ? `${host.name} (${host.mac}) was not found at ${host.ip} nor anywhere${where}`
        : `${host.name} (${host.mac}) was not found at ${host.ip}; the rest of the subnet was not searched (see the sweep observation)`,
  }[v.reason];
  ctx.emit({
    check: 'host',
    subject: host.name,
    status: v.reason === 'at-expected' ? 'ok' : 'fail',
    reason: v.reason,
    summary,
    labels: { host: host.name, mac: host.mac, expected: host.ip, ...(actualIp ? { actual: actualIp } : {}) },
    values: {
      present: present ? 1 : 0,
      ...(rttMs !== undefined ? { rtt_ms: rttMs } : {}),
      ...(lossPct !== undefined ? { loss_pct: lossPct } : {}),
    },
    data,
  });
}

/**
 * Leads to hosts that fell back to 169.254.x.y: link-local addresses this
 * machine has talked to (they are in its neighbour table, in any state; that
 * needs a 169.254/16 route or address of its own, as avahi-autoipd or
 * dhcpcd's IPv4LL give). A lead is resolved like a sweep, so a configured MAC
 * counts there only with proof from this run. A link-local host cannot
 * answer an echo from a source outside 169.254/16 (it has no route back), so
 * an entry the kernel still trusts is proven only when this machine has a
 * link-local address itself.
 */
async function linkLocalSightings(iface: string, wanted: ReadonlySet<string>, own: readonly string[], budgetMs: number, signal: AbortSignal): Promise<AliveHost[]> {
  let leads: string[];
  try {
    leads = (await readNeighbours(iface, { signal })).entries.filter((e) => isLinkLocal(e.ip) && e.state !== 'PERMANENT' && e.state !== 'NOARP').map((e) => e.ip);
  } catch {
    return [];
  }
  leads = leads.filter((ip) => !own.includes(ip)).slice(0, 64);
  if (leads.length === 0) return [];
  const r = await resolveAddresses(leads, { iface, signal, deadline: Date.now() + budgetMs, exclude: own, echoIface: iface, settleMs: 200, maxWaitMs: 600 });
  return r.alive.filter((a) => wanted.has(a.mac));
}

/** This machine's addresses as sightings of its own MACs. */
function selfSightings(me: readonly OwnInterface[]): AliveHost[] {
  return me.flatMap((i) => i.addresses.map((a) => ({ ip: a.ip, mac: i.mac, state: 'SELF', via: 'self' as const })));
}

/** The `self` fact: this machine's interfaces, and which inventory host it is. */
function emitSelf(ctx: ProbeContext, me: OwnInterface[], hosts: readonly HostConfig[]): void {
  const host = hosts.find((h) => me.some((i) => i.mac === h.mac));
  const name = hostname();
  const data: SelfData = { hostname: name, ...(host ? { host: host.name } : {}), interfaces: me };
  const addrs = me.flatMap((i) => i.addresses.map((a) => `${a.ip}${a.dynamic ? ' (DHCP)' : ''}`));
  ctx.emit({
    check: 'self',
    subject: host?.name ?? name,
    status: 'ok',
    reason: host ? 'inventory-host' : 'not-in-inventory',
    summary: `this machine${host ? ` is ${host.name} (${host.mac})` : ` (${name}) is not in the inventory`}; its addresses: ${addrs.join(', ') || 'none'}`,
    labels: host ? { host: host.name } : {},
    values: {},
    data,
  });
}

function uniq<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}

function clamp(n: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, n));
}
