/**
 * An unprivileged sweep of one subnet: one empty UDP datagram to a closed
 * high port of every address makes the kernel resolve each address with ARP;
 * the neighbour table read before and after tells who answered during the
 * sweep. No raw sockets, no root, one process (plus two `ip` reads) instead
 * of one per address.
 *
 * What a sweep cannot see by itself: an address whose entry was already
 * REACHABLE or STALE before the sweep is not re-resolved (the kernel trusts
 * its cache for 15-45 s and waits 5 s before re-probing a stale entry). Such
 * addresses are echo-pinged, at the MAC the kernel holds, and count as alive
 * only when they answer: a cached MAC never makes a host look present on its
 * own.
 */
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { errorMessage } from '../../shared/errors.js';
import { compareIp, hostAddresses, inSubnet, type Subnet } from '../../shared/ipv4.js';
import { sleep } from '../../shared/wait.js';
import { dropNeighbours, freshBetween, readNeighbours, type NeighbourSnapshot } from './neighbours.js';
import { pingAll, pingLinkMulticast, type PingResult } from './ping.js';

/** Widest subnet swept without `--force` (1022 addresses). */
export const MAX_PREFIX_UNFORCED = 22;
/** Widest subnet swept even with `--force`: a /16 is 65534 ARP requests and would overflow the kernel's neighbour table. */
export const MAX_PREFIX_FORCED = 20;
/** traceroute's first port: conventionally closed, so a datagram there is answered (if at all) by ICMP port unreachable. */
export const SWEEP_PORT = 33434;

export class SweepScopeError extends Error {
  override name = 'SweepScopeError';
  constructor(message: string, readonly reason: 'too-wide' | 'no-subnet') {
    super(message);
  }
}

/** The addresses a sweep may touch: the subnet's hosts, never outside it, bounded in size. */
export function sweepTargets(subnet: Subnet | undefined, opts: { force?: boolean } = {}): string[] {
  if (!subnet) throw new SweepScopeError('no subnet to sweep: set `subnet` (e.g. 192.168.1.0/24) or `interface` in netdoctor.yaml', 'no-subnet');
  if (subnet.prefix < MAX_PREFIX_FORCED) {
    throw new SweepScopeError(`subnet ${subnet.cidr} is too wide to sweep (${2 ** (32 - subnet.prefix) - 2} addresses); netdoctor sweeps at most a /${MAX_PREFIX_FORCED} even with --force`, 'too-wide');
  }
  if (subnet.prefix < MAX_PREFIX_UNFORCED && !opts.force) {
    throw new SweepScopeError(`subnet ${subnet.cidr} is wider than /${MAX_PREFIX_UNFORCED} (${2 ** (32 - subnet.prefix) - 2} addresses); sweep it anyway with --force, or set a narrower \`subnet\``, 'too-wide');
  }
  return hostAddresses(subnet).filter((ip) => inSubnet(ip, subnet));
}

export interface SweepOptions {
  subnet: Subnet | undefined;
  iface: string;
  force?: boolean;
  signal?: AbortSignal;
  /** Epoch ms by which the sweep must be done; waiting is cut short to leave room after it. */
  deadline?: number;
  /** Addresses not to send to (the machine's own). */
  exclude?: readonly string[];
  /** Datagrams per second (default 2000). */
  ratePerSec?: number;
  /** Least wait for ARP replies after the last datagram, ms (default 400). */
  settleMs?: number;
  /** Most wait after the last datagram, ms (default 1500); the wait ends earlier once replies stop arriving. */
  maxWaitMs?: number;
  /** Echo requests to each address that had a cached MAC before the sweep (default 2). */
  echoCount?: number;
  /** Send those echoes out of this interface even without a route (`ping -I`): for 169.254/16 leads. */
  echoIface?: string;
  /**
   * Drop cached entries and resolve them by ARP with the rest of the sweep
   * instead of an echo each; without the privilege, drop only those that did
   * not answer the echo (default true; effective only with CAP_NET_ADMIN).
   */
  refreshUnanswered?: boolean;
}

export interface AliveHost {
  ip: string;
  mac: string;
  /** Kernel state after the sweep. */
  state: string;
  /** How this run knows: an ARP confirmation during the sweep, an echo reply sent to the cached MAC, or the address is this machine's own. */
  via: 'arp' | 'echo' | 'self';
}

export interface SweepResult {
  subnet: Subnet;
  addresses: number;
  startedAt: number;
  durationMs: number;
  before: NeighbourSnapshot;
  after: NeighbourSnapshot;
  /** Hosts proven present during this sweep, by address. */
  alive: AliveHost[];
  /** Echo results for the addresses that had a cached MAC before the sweep. */
  echoes: PingResult[];
  /** Datagrams the kernel refused to send (first error), if any. */
  sendError?: string;
}

/** Datagrams per sending socket: well under what its default send buffer holds while ARP is pending. */
const DATAGRAMS_PER_SOCKET = 128;

export const SWEEP_DEFAULTS = { ratePerSec: 2000, settleMs: 400, maxWaitMs: 1500, echoCount: 2, echoTimeoutMs: 600 } as const;


/** States in which the kernel holds a MAC it will use without asking again. */
const CACHED: ReadonlySet<string> = new Set(['REACHABLE', 'STALE', 'DELAY', 'PROBE']);

export async function sweep(opts: SweepOptions): Promise<SweepResult> {
  const targets = sweepTargets(opts.subnet, { force: opts.force });
  return { subnet: opts.subnet!, ...(await resolveAddresses(targets, opts)) };
}

/**
 * The work of a sweep over an explicit list of addresses (a whole subnet, or
 * only the configured hosts' addresses when the subnet may not be swept).
 */
export async function resolveAddresses(targets: readonly string[], opts: Omit<SweepOptions, 'subnet' | 'force'>): Promise<Omit<SweepResult, 'subnet'>> {
  const wanted = new Set(targets);
  for (const ip of opts.exclude ?? []) wanted.delete(ip);
  const sendTo = [...wanted];
  const rate = opts.ratePerSec ?? SWEEP_DEFAULTS.ratePerSec;
  const settleMs = opts.settleMs ?? SWEEP_DEFAULTS.settleMs;
  const deadline = opts.deadline ?? Number.POSITIVE_INFINITY;
  const maxWaitMs = opts.maxWaitMs ?? SWEEP_DEFAULTS.maxWaitMs;

  const startedAt = Date.now();
  const before = await readNeighbours(opts.iface, { signal: opts.signal });
  const cachedBefore = new Map(
    before.entries.filter((e) => e.mac !== undefined && CACHED.has(e.state) && wanted.has(e.ip)).map((e) => [e.ip, e]),
  );

  // Addresses with a cached MAC get no ARP from a datagram. With the privilege to, forget those MACs and let
  // the sweep's ARP prove them with everything else: one `ip -batch`, where an echo each is a ping process
  // per address (1,000 on a busy /22 with a warm cache: 8 s and 110 MB instead of 2.5 s and 90 MB).
  const refresh = opts.refreshUnanswered !== false;
  const dropped = refresh && cachedBefore.size > 0 ? await dropNeighbours(opts.iface, [...cachedBefore.keys()], { signal: opts.signal }) : [];
  const droppedSet = new Set(dropped);
  // The others are asked by echo, which goes to the cached MAC.
  const echoing = pingAll([...cachedBefore.keys()].filter((ip) => !droppedSet.has(ip)), {
    count: opts.echoCount ?? SWEEP_DEFAULTS.echoCount,
    intervalMs: 100,
    timeoutMs: Math.max(300, Math.min(SWEEP_DEFAULTS.echoTimeoutMs, deadline - Date.now() - 500)),
    signal: opts.signal,
    concurrency: 32,
    ...(opts.echoIface ? { iface: opts.echoIface } : {}),
  });

  const sendError = await sendDatagrams(sendTo, rate, opts.signal);
  const lastSend = Date.now();

  // Wait for ARP replies: at least settleMs, longer while new confirmations keep arriving, never past the deadline.
  const waitEnd = Math.min(lastSend + maxWaitMs, deadline - 300);
  let after = await readNeighbours(opts.iface, { signal: opts.signal });
  let confirmed = freshBetween(before, after).length;
  let lastGrowth = Date.now();
  while (!opts.signal?.aborted) {
    const now = Date.now();
    const quietLongEnough = now - lastSend >= settleMs && now - lastGrowth >= Math.min(settleMs, 200);
    if (quietLongEnough || now >= waitEnd) break;
    await sleep(Math.min(100, Math.max(10, waitEnd - now)), opts.signal);
    after = await readNeighbours(opts.iface, { signal: opts.signal });
    const n = freshBetween(before, after).length;
    if (n > confirmed) {
      confirmed = n;
      lastGrowth = Date.now();
    }
  }
  const echoes = await echoing;

  // A cached MAC that did not answer may belong to a host that left, with another device now at the
  // address; with the privilege to, forget it and ask by ARP who is there now.
  let relearnt: string[] = [];
  const unanswered = echoes.filter((e) => e.received === 0).map((e) => e.target);
  if (unanswered.length > 0 && refresh && !opts.signal?.aborted && Date.now() < deadline - 800) {
    relearnt = await dropNeighbours(opts.iface, unanswered, { signal: opts.signal });
    if (relearnt.length > 0) {
      const resent = Date.now();
      await sendDatagrams(relearnt, rate, opts.signal);
      const end = Math.min(resent + 500, deadline - 300);
      while (!opts.signal?.aborted && Date.now() < end) {
        await sleep(50, opts.signal);
        const t = await readNeighbours(opts.iface, { signal: opts.signal });
        if (relearnt.every((ip) => t.entries.some((e) => e.ip === ip && e.state !== 'INCOMPLETE')) || Date.now() - resent >= 200) break;
      }
    }
  }
  after = await readNeighbours(opts.iface, { signal: opts.signal });

  const alive = provenAlive(before, after, echoes, wanted, new Set([...dropped, ...relearnt]));

  return {
    addresses: targets.length,
    startedAt,
    durationMs: Date.now() - startedAt,
    before,
    after,
    alive,
    echoes,
    ...(sendError ? { sendError } : {}),
  };
}

/**
 * Who this run proves present, from the table before and after and the echo
 * replies to addresses that already had a MAC before (pure, so recorded
 * tables can replay it). An echo reply counts only if the kernel held the
 * same MAC before and after: that is the MAC the requests were sent to.
 */
export function provenAlive(
  before: NeighbourSnapshot,
  after: NeighbourSnapshot,
  echoes: ReadonlyArray<Pick<PingResult, 'target' | 'received'>>,
  wanted: ReadonlySet<string>,
  relearnt: ReadonlySet<string> = new Set(),
): AliveHost[] {
  const alive = new Map<string, AliveHost>();
  for (const e of freshBetween(before, after)) {
    if (wanted.has(e.ip)) alive.set(e.ip, { ip: e.ip, mac: e.mac!, state: e.state, via: 'arp' });
  }
  // Entries dropped during the sweep and holding a MAC again were learnt afresh since.
  for (const e of after.entries) {
    if (relearnt.has(e.ip) && wanted.has(e.ip) && e.mac && CACHED.has(e.state)) alive.set(e.ip, { ip: e.ip, mac: e.mac, state: e.state, via: 'arp' });
  }
  const beforeByIp = new Map(before.entries.map((e) => [e.ip, e]));
  const afterByIp = new Map(after.entries.map((e) => [e.ip, e]));
  for (const echo of echoes) {
    if (!wanted.has(echo.target) || alive.has(echo.target) || echo.received === 0) continue;
    const was = beforeByIp.get(echo.target);
    const now = afterByIp.get(echo.target);
    if (was?.mac && CACHED.has(was.state) && now?.mac === was.mac) alive.set(echo.target, { ip: echo.target, mac: was.mac, state: now.state, via: 'echo' });
  }
  return [...alive.values()].sort((a, b) => compareIp(a.ip, b.ip));
}

/**
 * Sends one empty datagram per address, paced to `ratePerSec` in small
 * batches so a /22 does not flood the kernel's neighbour table or the LAN.
 * Send errors (no route, EPERM from a firewall) are collected, not thrown:
 * the neighbour table shows what did get out.
 */
async function sendDatagrams(targets: readonly string[], ratePerSec: number, signal?: AbortSignal): Promise<string | undefined> {
  // A datagram to an address still being resolved waits in the kernel's ARP queue charged to its socket's send
  // buffer (~200 fit in the default 208 KiB); one socket for a /22 then stalls until ARP gives up on the silent
  // addresses (9.5 s). A socket per 128 addresses never fills its buffer.
  const sockets: Socket[] = Array.from({ length: Math.max(1, Math.ceil(targets.length / DATAGRAMS_PER_SOCKET)) }, () => createSocket('udp4'));
  let firstError: string | undefined;
  for (const socket of sockets) socket.on('error', (err) => (firstError ??= errorMessage(err)));
  const payload = Buffer.alloc(0);
  const batch = Math.max(1, Math.round(ratePerSec / 100));
  try {
    for (let i = 0; i < targets.length && !signal?.aborted; i += batch) {
      const slice = targets.slice(i, i + batch);
      await Promise.all(
        slice.map(
          (ip, k) =>
            new Promise<void>((resolve) => {
              sockets[Math.floor((i + k) / DATAGRAMS_PER_SOCKET)].send(payload, SWEEP_PORT, ip, (err) => {
                if (err) firstError ??= `sending to ${ip}: ${errorMessage(err)}`;
                resolve();
              });
            }),
        ),
      );
      if (i + batch < targets.length) await sleep(10, signal);
    }
  } finally {
    for (const socket of sockets) socket.close();
  }
  return firstError;
}

export interface LinkResponder {
  /** fe80:: address that answered. */
  address: string;
  mac?: string;
  /** Where the MAC came from: the IPv6 neighbour table, or decoded from an EUI-64 interface identifier. */
  macFrom?: 'neighbour' | 'eui64';
}

/**
 * Who is on the link at all, whatever their IPv4 address: an echo to the
 * IPv6 all-nodes group (ff02::1, link scope: it never leaves the LAN) out of
 * `iface`. A host that lost DHCP and fell back to 169.254.x.y cannot be found
 * by an IPv4 sweep of the subnet, and without root its link-local IPv4
 * address cannot be learnt, but its IPv6 link-local address still answers.
 */
export async function linkScan(iface: string, opts: { signal?: AbortSignal } = {}): Promise<{ responders: LinkResponder[]; error?: string }> {
  if (!ipv6Enabled(iface)) return { responders: [], error: `IPv6 is disabled on ${iface}` };
  const echo = await pingLinkMulticast(iface, { signal: opts.signal });
  if (echo.responders.length === 0) return { responders: [], ...(echo.error ? { error: echo.error } : {}) };
  let table = new Map<string, string>();
  try {
    const v6 = await readNeighbours(iface, { family: 6, signal: opts.signal });
    table = new Map(v6.entries.filter((e) => e.mac).map((e) => [expandIPv6(e.ip) ?? e.ip, e.mac!]));
  } catch {
    // Without the table, EUI-64 addresses still carry their MAC.
  }
  const responders = echo.responders.map((address): LinkResponder => {
    const fromTable = table.get(expandIPv6(address) ?? address);
    if (fromTable) return { address, mac: fromTable, macFrom: 'neighbour' };
    const eui = macFromEui64(address);
    return eui ? { address, mac: eui, macFrom: 'eui64' } : { address };
  });
  return { responders, ...(echo.error ? { error: echo.error } : {}) };
}

function ipv6Enabled(iface: string): boolean {
  try {
    return readFileSync(`/proc/sys/net/ipv6/conf/${iface}/disable_ipv6`, 'utf8').trim() === '0';
  } catch {
    return false;
  }
}

/** Eight four-digit groups, lower case; undefined when not an IPv6 address. */
export function expandIPv6(address: string): string | undefined {
  const a = address.toLowerCase().split('%')[0];
  if (!/^[0-9a-f:]+$/.test(a) || (a.match(/::/g) ?? []).length > 1) return undefined;
  const [head, tail] = a.includes('::') ? a.split('::') : [a, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const missing = 8 - h.length - t.length;
  if (tail === undefined ? h.length !== 8 : missing < 1) return undefined;
  const groups = [...h, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...t];
  if (groups.some((g) => g.length === 0 || g.length > 4)) return undefined;
  return groups.map((g) => g.padStart(4, '0')).join(':');
}

/** The MAC inside a modified EUI-64 interface identifier (`…:xxxx:xxff:fexx:xxxx`), U/L bit flipped back. */
export function macFromEui64(address: string): string | undefined {
  const full = expandIPv6(address);
  if (!full) return undefined;
  const hex = full.split(':').slice(4).join('');
  if (hex.slice(6, 10) !== 'fffe') return undefined;
  const bytes = [hex.slice(0, 2), hex.slice(2, 4), hex.slice(4, 6), hex.slice(10, 12), hex.slice(12, 14), hex.slice(14, 16)];
  bytes[0] = (Number.parseInt(bytes[0], 16) ^ 0x02).toString(16).padStart(2, '0');
  return bytes.join(':');
}
