/**
 * The DHCP probe: who answers a DHCPDISCOVER on the LAN, and what each server
 * hands out. The seed's outage began with the router's DHCP server gone; the
 * other classic is a second server nobody meant to run.
 *
 * It asks and never takes: DISCOVER only, from the installation's own locally
 * administered MAC (see net/client-mac.ts), never REQUEST, so no lease is
 * created and no pool address is used up.
 *
 * Timing: dnsmasq and ISC dhcpd ping an address before offering it, so a
 * server's first OFFER to a client it has not seen lately takes 1-4 s, while a
 * repeat is answered in milliseconds. The probe waits up to `dhcp.window`
 * (default 6 s, past the slowest default dnsmasq) and stops early once offers
 * are in, a settle period has passed without a new server, and the time a
 * pinging server needs (PING_HORIZON_MS) is over.
 */
import { randomInt } from 'node:crypto';
import type { Socket } from 'node:dgram';
import { readdirSync, readFileSync } from 'node:fs';
import { readAddressOrigin, type AddressOrigin } from '../config/address-origin.js';
import { readMachineFacts, type MachineFacts } from '../config/machine.js';
import { formatDuration } from '../shared/duration.js';
import { broadcastOf, isIPv4, maskToPrefix, subnetOf } from '../shared/ipv4.js';
import { didYouMean } from '../shared/suggest.js';
import { loadClientMac, type ClientMac } from './net/client-mac.js';
import { DHCP_CLIENT_PORT, encodeDiscover } from './net/dhcp-packet.js';
import { collectOffers, DhcpBindError, openClientSocket, type CollectResult, type ReceivedOffer } from './net/dhcp-socket.js';
import type { Prepared, Probe, ProbeContext } from './types.js';

export const LIMITED_BROADCAST = '255.255.255.255';

/**
 * Wait this long after the newest server's first offer for another server.
 * Two ping-checking dnsmasq servers that both start pinging on our DISCOVER
 * answer up to a second apart (dnsmasq times its ping wait in whole seconds).
 */
export const SETTLE_MS = 1200;
/**
 * Never stop before this, even when an offer came at once: a server that has
 * answered us lately replies in milliseconds from its ping cache, but a
 * second server that has not (a Pi's dnsmasq left with a dhcp-range) is still
 * pinging and answers 3-4 s after the DISCOVER. Stopping at the first fast
 * offer would miss exactly the unexpected server this probe exists to find
 * (measured: a new dnsmasq beside a cached one was missed by two runs in a
 * row with a 1.2 s settle). Bounded by `dhcp.window`, so a user who wants a
 * quicker, less certain answer shortens the window.
 */
export const PING_HORIZON_MS = 4500;
/**
 * Send the DISCOVER again at these times (ms) until the first offer arrives,
 * as real clients do, so one lost datagram on Wi-Fi is not a false "no
 * server". A server still pinging for the first queues the repeat and then
 * answers it at once; an offer for either carries the same xid.
 */
export const RETRANSMIT_AT_MS = [1000, 2000] as const;
/** Kept free at the end of the run deadline to emit the verdict. */
const EMIT_MARGIN_MS = 150;

export interface OfferData {
  serverId: string;
  sourceIp: string;
  sourceMac?: string;
  offeredIp: string;
  subnetMask?: string;
  router: string[];
  dns: string[];
  leaseSeconds?: number;
  domain?: string;
  expected: boolean;
  offerMs: number;
  /** Additions to the contract: more of what the server hands out, and how it answered. */
  ntp: string[];
  broadcast?: string;
  renewalSeconds?: number;
  rebindingSeconds?: number;
  /** Options whose value had the wrong shape (e.g. a router list of 6 bytes). */
  invalidOptions: string[];
  /** How many OFFERs this server sent for our DISCOVERs (retransmissions draw repeats). */
  offers: number;
  /** The server had no server-identifier option (54); `serverId` is its source address. */
  serverIdMissing?: boolean;
}

export interface SummaryData {
  servers: string[];
  expected: string[];
  unexpected: string[];
  /** The window actually waited for: `dhcp.window`, or less when the run deadline cut it. */
  windowMs: number;
  clientMac: string;
  iface: string;
  /** Additions to the contract. */
  configuredWindowMs: number;
  /** `dhcp.servers` the offers were judged against (empty: any single server is accepted). */
  allowed: string[];
  target: string;
  discoversSent: number;
  /** Datagrams on port 68 that were not DHCP at all (garbage, truncated). */
  malformed: number;
  malformedSamples: string[];
  /** Valid DHCP for another client or transaction. */
  ignored: number;
  endedBy: CollectResult['endedBy'];
  elapsedMs: number;
  clientMacSource: ClientMac['source'];
  clientMacFile?: string;
  clientMacProblem?: string;
  /** How this machine's own address on `iface` was obtained: the evidence that a DHCP server is expected here. */
  addressOrigin: AddressOrigin;
}

type Target = { ok: true; target: string; ifaceAddress?: string } | { ok: false; reason: string; summary: string };

function sysInterfaces(): string[] {
  try {
    return readdirSync('/sys/class/net');
  } catch {
    return [];
  }
}

/**
 * Where to send so the DISCOVER leaves by the configured interface: the
 * default route's interface gets 255.255.255.255 like any DHCP client; any
 * other interface its directed broadcast, which only it can route.
 */
export function chooseTarget(iface: string | undefined, machine: MachineFacts, existing: readonly string[]): Target {
  if (!iface) {
    return {
      ok: false,
      reason: 'no-interface',
      summary: 'no interface to probe: the config sets no `interface` and this machine has no default route; set `interface:` (e.g. eth0) in netdoctor.yaml',
    };
  }
  if (existing.length > 0 && !existing.includes(iface)) {
    return {
      ok: false,
      reason: 'no-interface',
      summary: `interface ${JSON.stringify(iface)} does not exist${didYouMean(iface, existing)}; interfaces here: ${existing.join(', ')}`,
    };
  }
  const addr = machine.interfaces[iface];
  if (iface === machine.defaultInterface) return { ok: true, target: LIMITED_BROADCAST, ifaceAddress: addr?.address };
  if (!addr) {
    return {
      ok: false,
      reason: 'no-interface',
      summary: `${iface} has no IPv4 address and is not the default route's interface, so a broadcast cannot be steered out of it (node cannot bind a socket to a device); give ${iface} an address (a link-local one will do: ip addr add 169.254.77.1/16 dev ${iface}) or probe from a machine whose default route is on that LAN`,
    };
  }
  if (addr.prefix >= 31) {
    return {
      ok: false,
      reason: 'unsupported',
      summary: `${iface} is ${addr.address}/${addr.prefix}, a point-to-point link without a broadcast address; a DHCP probe needs a LAN interface`,
    };
  }
  return { ok: true, target: broadcastOf(subnetOf(addr.address, addr.prefix)), ifaceAddress: addr.address };
}

/** The kernel's neighbour table: the server's MAC when we have talked to it before. No packet is sent. */
function neighbourMacs(): Map<string, string> {
  const out = new Map<string, string>();
  let text = '';
  try {
    text = readFileSync('/proc/net/arp', 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n').slice(1)) {
    const [ip, , flags, mac] = line.trim().split(/\s+/);
    if (ip && mac && isIPv4(ip) && flags !== '0x0' && mac !== '00:00:00:00:00:00') out.set(ip, mac.toLowerCase());
  }
  return out;
}

function prefixOf(mask: string | undefined): string {
  if (!mask) return '';
  const prefix = maskToPrefix(mask);
  return prefix === undefined ? ` mask ${mask}` : `/${prefix}`;
}

function describeOffer(d: OfferData): string {
  const parts = [`offered ${d.offeredIp}${prefixOf(d.subnetMask)}`];
  parts.push(d.router.length ? `router ${d.router.join(', ')}` : 'no router');
  parts.push(d.dns.length ? `DNS ${d.dns.join(', ')}` : 'no DNS');
  if (d.leaseSeconds !== undefined) parts.push(`lease ${d.leaseSeconds === 0xffffffff ? 'infinite' : formatDuration(d.leaseSeconds * 1000)}`);
  if (d.domain) parts.push(`domain ${d.domain}`);
  return parts.join(', ');
}

const permissionHelp =
  'run netdoctor as root (sudo netdoctor check), or let node bind it: sudo setcap cap_net_bind_service,cap_net_raw+ep "$(readlink -f "$(which node)")" (this applies to every script that node runs)';

/**
 * What `prepare` opens while netdoctor is still root: port 68, and the
 * installation's MAC (whose state file, for root, is under /var/lib), so
 * that a run dropped to `--user` speaks from the same MAC as a root run.
 */
interface DhcpPrepared extends Prepared {
  socket: Socket;
  client?: ClientMac;
}

export const dhcpProbe: Probe = {
  name: 'dhcp',
  title: 'DHCP servers on the LAN and what they hand out (DISCOVER only, never takes a lease)',
  vantages: ['inside'],
  async prepare(ctx): Promise<DhcpPrepared> {
    let client: ClientMac | undefined;
    try {
      client = loadClientMac({ explicit: ctx.options.clientMac });
    } catch {
      // A bad clientMac option: run() reports it.
    }
    const socket = await openClientSocket();
    socket.on('error', () => {
      // Between prepare and run nobody listens; an ICMP error then must not become an uncaught exception.
    });
    let open = true;
    return {
      socket,
      client,
      release() {
        if (open) {
          open = false;
          socket.close();
        }
      },
    };
  },
  async run(ctx: ProbeContext): Promise<void> {
    const started = Date.now();
    const config = ctx.config;
    const machine = readMachineFacts();
    const chosen = chooseTarget(config.interface, machine, sysInterfaces());
    const iface = config.interface ?? '';
    const probeError = (reason: string, summary: string, data?: Record<string, unknown>) =>
      ctx.emit({ check: 'probe', subject: 'dhcp', status: 'error', reason, summary, labels: iface ? { iface } : {}, ...(data ? { data } : {}) });
    if (!chosen.ok) {
      probeError(chosen.reason, chosen.summary);
      return;
    }

    const prepared = ctx.prepared as DhcpPrepared | undefined;
    let client: ClientMac;
    try {
      client = prepared?.client ?? loadClientMac({ explicit: ctx.options.clientMac });
    } catch (err) {
      probeError('invalid-option', (err as Error).message);
      return;
    }

    const configuredWindowMs = config.dhcp.windowMs;
    const windowMs = Math.max(0, Math.min(configuredWindowMs, ctx.deadline - Date.now() - EMIT_MARGIN_MS));
    const xid = randomInt(0, 2 ** 32 - 1);
    const origin = readAddressOrigin(iface);
    let result: CollectResult;
    try {
      result = await collectOffers({
        xid,
        mac: client.mac,
        discover: (secs) => encodeDiscover({ xid, mac: client.mac, secs }),
        target: chosen.target,
        windowMs,
        settleMs: SETTLE_MS,
        minWaitMs: PING_HORIZON_MS,
        retransmitAtMs: RETRANSMIT_AT_MS,
        signal: ctx.signal,
        ...(prepared ? { socket: prepared.socket } : {}),
      });
    } catch (err) {
      if (err instanceof DhcpBindError) {
        if (err.code === 'EADDRINUSE') {
          probeError('port-in-use', `UDP port ${DHCP_CLIENT_PORT} is held by another program that does not share it (no SO_REUSEADDR), so DHCP offers cannot be heard; stop that program while checking, or run the check on another machine on the LAN`);
        } else {
          probeError('permission', `no permission to listen on UDP port ${DHCP_CLIENT_PORT} (${err.code}), which DHCP offers are sent to: ${permissionHelp}`);
        }
        return;
      }
      throw err;
    }
    if (result.endedBy === 'aborted') return; // the runner reports the interruption
    if (result.sent === 0) {
      probeError('no-interface', `could not send a DHCP broadcast to ${chosen.target} out of ${iface}: ${result.sendErrors[0] ?? 'unknown error'}; check that ${iface} is up and has a route`, { target: chosen.target, sendErrors: result.sendErrors });
      return;
    }

    const allowed = config.dhcp.servers;
    const neighbours = neighbourMacs();
    const byServer = new Map<string, { first: ReceivedOffer; count: number }>();
    for (const offer of result.offers) {
      const key = `${offer.content.serverId ?? offer.sourceIp}|${offer.sourceIp}`;
      const seen = byServer.get(key);
      if (seen) seen.count++;
      else byServer.set(key, { first: offer, count: 1 });
    }

    const servers: string[] = [];
    const expected: string[] = [];
    const unexpected: string[] = [];
    const offerData: OfferData[] = [];
    for (const { first, count } of byServer.values()) {
      const c = first.content;
      const serverId = c.serverId ?? first.sourceIp;
      const isExpected = allowed.length === 0 || allowed.includes(serverId);
      const sourceMac = neighbours.get(first.sourceIp);
      const d: OfferData = {
        serverId,
        sourceIp: first.sourceIp,
        ...(sourceMac ? { sourceMac } : {}),
        offeredIp: c.offeredIp,
        ...(c.subnetMask ? { subnetMask: c.subnetMask } : {}),
        router: c.router,
        dns: c.dns,
        ...(c.leaseSeconds !== undefined ? { leaseSeconds: c.leaseSeconds } : {}),
        ...(c.domain ? { domain: c.domain } : {}),
        expected: isExpected,
        offerMs: Math.round(first.atMs),
        ntp: c.ntp,
        ...(c.broadcast ? { broadcast: c.broadcast } : {}),
        ...(c.renewalSeconds !== undefined ? { renewalSeconds: c.renewalSeconds } : {}),
        ...(c.rebindingSeconds !== undefined ? { rebindingSeconds: c.rebindingSeconds } : {}),
        invalidOptions: c.invalid,
        offers: count,
        ...(c.serverId ? {} : { serverIdMissing: true }),
      };
      offerData.push(d);
      if (!servers.includes(serverId)) servers.push(serverId);
      (isExpected ? expected : unexpected).push(serverId);
      const via = first.sourceIp !== serverId ? ` (sent from ${first.sourceIp})` : '';
      const bad = c.invalid.length ? `; malformed options: ${c.invalid.join('; ')}` : '';
      ctx.emit({
        check: 'offer',
        subject: serverId,
        status: isExpected ? 'ok' : 'fail',
        reason: isExpected ? 'offered' : 'unexpected-server',
        summary: isExpected
          ? `DHCP server ${serverId}${via} ${describeOffer(d)} after ${formatDuration(d.offerMs)}${bad}`
          : `unexpected DHCP server ${serverId}${via} (dhcp.servers allows ${allowed.join(', ')}) ${describeOffer(d)} after ${formatDuration(d.offerMs)}${bad}`,
        labels: { server: serverId, iface },
        values: { offer_ms: d.offerMs, ...(d.leaseSeconds !== undefined ? { lease_s: d.leaseSeconds } : {}) },
        data: d,
        durationMs: d.offerMs,
      });
    }

    const firstOfferMs = offerData.length ? Math.min(...offerData.map((d) => d.offerMs)) : undefined;
    const windowCut = windowMs < configuredWindowMs;
    const summaryData: SummaryData = {
      servers,
      expected,
      unexpected,
      windowMs: Math.round(windowMs),
      clientMac: client.mac,
      iface,
      configuredWindowMs,
      allowed,
      target: chosen.target,
      discoversSent: result.sent,
      malformed: result.malformed,
      malformedSamples: result.malformedSamples,
      ignored: result.ignored,
      endedBy: result.endedBy,
      elapsedMs: Math.round(result.elapsedMs),
      clientMacSource: client.source,
      ...(client.file ? { clientMacFile: client.file } : {}),
      ...(client.problem ? { clientMacProblem: client.problem } : {}),
      addressOrigin: await origin,
    };
    const values: Record<string, number> = { servers: servers.length, unexpected: unexpected.length };
    if (firstOfferMs !== undefined) values.offer_ms = firstOfferMs;
    const cutNote = windowCut ? `; the run deadline cut the window to ${formatDuration(windowMs)} (dhcp.window ${formatDuration(configuredWindowMs)}), so a slower server may be missing` : '';
    const junkNote = result.malformed ? `; ignored ${result.malformed} malformed datagram${result.malformed === 1 ? '' : 's'} on port 68` : '';
    const noise = `${junkNote}${cutNote}`;
    const base = { check: 'summary', subject: 'dhcp', labels: { iface }, values, data: summaryData, durationMs: Date.now() - started };

    if (servers.length === 0) {
      if (windowCut) {
        // Silence in a cut window says nothing about a server that pings first: "cannot tell", the
        // same as the runner's own deadline cut (a probe-level timeout), never a false "no server".
        probeError('timeout', `no DHCP offer on ${iface} within ${formatDuration(windowMs)}, but the run deadline left no time for the whole dhcp.window (${formatDuration(configuredWindowMs)}), and a server that pings before offering needs 3-4 s; raise --deadline to judge${junkNote}`, { ...summaryData });
      } else {
        ctx.emit({
          ...base, status: 'fail', reason: 'no-offer',
          summary: `no DHCP server answered on ${iface} within ${formatDuration(windowMs)} (${result.sent} DISCOVER${result.sent === 1 ? '' : 's'} to ${chosen.target}); ${summaryData.addressOrigin.evidence}${noise}`,
        });
      }
      return;
    }
    const unexpectedText = unexpected.map((s) => {
      const d = offerData.find((o) => o.serverId === s)!;
      return `${s} (${describeOffer(d)})`;
    });
    if (unexpected.length > 0) {
      ctx.emit({
        ...base, status: 'fail', reason: 'unexpected-server',
        summary: `${servers.length} DHCP server${servers.length === 1 ? '' : 's'} on ${iface}; not in dhcp.servers (${allowed.join(', ')}): ${unexpectedText.join('; ')}${noise}`,
      });
      return;
    }
    const several = servers.length > 1 && allowed.length === 0
      ? '; more than one server answers and dhcp.servers is not set, so none is judged: list yours in dhcp.servers'
      : '';
    ctx.emit({
      ...base, status: 'ok', reason: 'served',
      summary: `${servers.length === 1 ? `DHCP server ${servers[0]}` : `DHCP servers ${servers.join(', ')}`} answered on ${iface}, first offer after ${formatDuration(firstOfferMs!)}${several}${noise}`,
    });
  },
};

