/**
 * The kernel's neighbour (ARP / NDP) table of one interface, with states and
 * ages, read through `ip -j -s neigh show dev IF` (netlink, unprivileged).
 *
 * Why not node-arp (1.0.6, see the dependency audit): it spawns a real `ping`
 * and then net-tools `arp` (often not installed) for every single address,
 * cannot list the table, crashes the process when `ping` is missing, reports
 * "no entry" as success and an incomplete entry as the MAC "(incomplete)",
 * and knows nothing of states or ages. `/proc/net/arp` lists the table but
 * without freshness. The one thing that matters here is freshness: an entry
 * can stay REACHABLE for 15-45 s and STALE for minutes after a host has left
 * its address, so a table entry alone never proves a host is present.
 */
import { execFile } from 'node:child_process';
import { isIPv4, normalizeMac, isInterfaceName } from '../../shared/ipv4.js';

/** NUD states as `ip` prints them. */
export type NeighbourState = 'REACHABLE' | 'STALE' | 'DELAY' | 'PROBE' | 'INCOMPLETE' | 'FAILED' | 'NOARP' | 'PERMANENT' | 'NONE';

export interface NeighbourEntry {
  ip: string;
  /** Lower-case colon-separated; absent while unresolved (INCOMPLETE, FAILED). */
  mac?: string;
  state: NeighbourState;
  /** Seconds since the kernel last had proof the neighbour answers at `mac` (whole seconds, rounded down). */
  confirmedS?: number;
  usedS?: number;
  updatedS?: number;
  router?: boolean;
}

export interface NeighbourSnapshot {
  iface: string;
  /** Epoch ms when `ip` was asked. */
  at: number;
  entries: NeighbourEntry[];
}

const STATES: readonly NeighbourState[] = ['REACHABLE', 'STALE', 'DELAY', 'PROBE', 'INCOMPLETE', 'FAILED', 'NOARP', 'PERMANENT', 'NONE'];

/** Parses `ip -j [-s] neigh` output; entries it cannot read are skipped, never guessed. */
export function parseNeighJson(text: string): NeighbourEntry[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  const raw: unknown = JSON.parse(trimmed);
  if (!Array.isArray(raw)) throw new Error('ip -j neigh did not print a JSON array');
  const out: NeighbourEntry[] = [];
  for (const item of raw) {
    if (typeof item !== 'object' || item === null) continue;
    const r = item as Record<string, unknown>;
    if (typeof r.dst !== 'string') continue;
    const states = Array.isArray(r.state) ? r.state.filter((s): s is string => typeof s === 'string') : [];
    // Several flags can be set at once; the first known NUD state is the one that matters.
    const state = (states.find((s) => (STATES as readonly string[]).includes(s)) ?? 'NONE') as NeighbourState;
    const entry: NeighbourEntry = { ip: r.dst, state };
    if (typeof r.lladdr === 'string' && r.lladdr !== '') entry.mac = normalizeMac(r.lladdr);
    if (typeof r.confirmed === 'number') entry.confirmedS = r.confirmed;
    if (typeof r.used === 'number') entry.usedS = r.used;
    if (typeof r.updated === 'number') entry.updatedS = r.updated;
    if (r.router === true || r.router === null) entry.router = true;
    out.push(entry);
  }
  return out;
}

export class NeighbourTableError extends Error {
  override name = 'NeighbourTableError';
  constructor(message: string, readonly kind: 'no-interface' | 'unsupported' | 'failed') {
    super(message);
  }
}

/** Reads the IPv4 (default) or IPv6 neighbour table of `iface`. */
export async function readNeighbours(iface: string, opts: { family?: 4 | 6; signal?: AbortSignal; timeoutMs?: number } = {}): Promise<NeighbourSnapshot> {
  if (!isInterfaceName(iface)) throw new NeighbourTableError(`${JSON.stringify(iface)} is not an interface name`, 'no-interface');
  const at = Date.now();
  const args = ['-j', '-s', opts.family === 6 ? '-6' : '-4', 'neigh', 'show', 'dev', iface];
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(
      'ip',
      args,
      { env: { ...process.env, LC_ALL: 'C' }, timeout: opts.timeoutMs ?? 5000, signal: opts.signal, maxBuffer: 16 * 1024 * 1024 },
      (err, out, errOut) => {
        if (!err) return resolve(out);
        const e = err as NodeJS.ErrnoException & { code?: string | number };
        if (e.code === 'ENOENT') return reject(new NeighbourTableError('the `ip` command was not found: install iproute2 (Debian/Ubuntu: apt-get install iproute2)', 'unsupported'));
        if (/Cannot find device/i.test(errOut)) return reject(new NeighbourTableError(`interface ${iface} does not exist (config key: interface)`, 'no-interface'));
        reject(new NeighbourTableError(`ip ${args.join(' ')} failed: ${(errOut || e.message).trim()}`, 'failed'));
      },
    );
  });
  return { iface, at, entries: parseNeighJson(stdout) };
}

/**
 * Entries confirmed between two snapshots of the same table: proof, made
 * during this window, that the neighbour answered at that MAC.
 *
 * The kernel moves an entry to REACHABLE only on a confirmation (an ARP reply,
 * or an upper-layer confirmation such as ping's MSG_CONFIRM after an echo
 * reply). So an entry REACHABLE after the window counts when, before it, the
 * entry was absent, in another state, held another MAC, or its confirmation
 * age shows a newer confirmation. Ages are whole seconds rounded down: a
 * confirmation is certainly newer when `after.confirmedS < before.confirmedS
 * + elapsed - 1`. STALE, DELAY, PROBE entries never count, nor do PERMANENT
 * and NOARP ones (set by hand, they say nothing about presence).
 */
export function confirmedBetween(before: NeighbourSnapshot, after: NeighbourSnapshot): NeighbourEntry[] {
  const prior = new Map(before.entries.map((e) => [e.ip, e]));
  const elapsedS = (after.at - before.at) / 1000;
  return after.entries.filter((e) => {
    if (e.state !== 'REACHABLE' || e.mac === undefined) return false;
    const old = prior.get(e.ip);
    if (!old || old.state !== 'REACHABLE' || old.mac !== e.mac) return true;
    if (e.confirmedS === undefined || old.confirmedS === undefined) return false;
    return e.confirmedS < old.confirmedS + elapsedS - 1;
  });
}

/** States whose MAC came from the network (not set by hand) and is still held. */
const LEARNT: ReadonlySet<NeighbourState> = new Set(['REACHABLE', 'STALE', 'DELAY', 'PROBE']);

/**
 * Entries whose MAC the kernel learnt or confirmed between two snapshots:
 * `confirmedBetween`, plus entries that had no MAC (or another MAC) before
 * and hold one after. The kernel only writes a learnt MAC from an ARP packet
 * that host sent (a reply, or a request or announcement naming its address),
 * so such an entry is proof from within the window, whatever its state: a
 * moved host that ARPs for its gateway turns our entry for its new address
 * STALE before our own ARP request goes out, and the kernel then does not ask.
 */
export function freshBetween(before: NeighbourSnapshot, after: NeighbourSnapshot): NeighbourEntry[] {
  const prior = new Map(before.entries.map((e) => [e.ip, e]));
  const confirmed = new Set(confirmedBetween(before, after));
  return after.entries.filter((e) => {
    if (confirmed.has(e)) return true;
    if (e.mac === undefined || !LEARNT.has(e.state)) return false;
    const old = prior.get(e.ip);
    return old?.mac === undefined || old.mac !== e.mac;
  });
}

/**
 * Drops the entries of `ips` so that the kernel asks by ARP at once the next
 * time they are used, instead of trusting a MAC that just failed to answer
 * (it would otherwise wait up to 45 s, then 5 s more, before asking). Needs
 * CAP_NET_ADMIN: without it nothing is dropped and `[]` comes back, never an
 * error. The kernel learns the entries again within milliseconds; nothing
 * else on the machine changes.
 */
export async function dropNeighbours(iface: string, ips: readonly string[], opts: { signal?: AbortSignal } = {}): Promise<string[]> {
  const valid = ips.filter(isIPv4);
  if (valid.length === 0 || !isInterfaceName(iface)) return [];
  const script = valid.map((ip) => `neigh del ${ip} dev ${iface}\n`).join('');
  return new Promise<string[]>((resolve) => {
    const child = execFile('ip', ['-force', '-batch', '-'], { env: { ...process.env, LC_ALL: 'C' }, timeout: 3000, signal: opts.signal }, (err, _out, errOut) => {
      if (err && /Operation not permitted|Permission denied/i.test(errOut)) return resolve([]);
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') return resolve([]);
      // "No such file or directory" only means the entry was already gone: it will be learnt afresh either way.
      resolve(valid);
    });
    child.stdin?.end(script);
  });
}

/** IPv4 entries only (a table read without `-4` also lists IPv6 ones). */
export function ipv4Entries(entries: readonly NeighbourEntry[]): NeighbourEntry[] {
  return entries.filter((e) => isIPv4(e.ip));
}
