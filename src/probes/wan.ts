/**
 * The way out: does the gateway answer, does the internet answer, and who is
 * the first router past the gateway. Gateway up with every target down is the
 * ISP (or the router's WAN side); gateway down is the LAN. The second hop is
 * what the CGNAT rule reads: an address in 100.64.0.0/10 there means the
 * router sits behind a carrier's NAT and no port forward can work.
 *
 * Everything is pinged at once (gateway, targets, the TTL-2 hop) under one
 * time budget, so the probe takes as long as its slowest echo, not the sum.
 */
import { formatDuration } from '../shared/duration.js';
import { errorMessage } from '../shared/errors.js';
import { isIPv4 } from '../shared/ipv4.js';
import { mapLimit } from '../shared/limit.js';
import { readNeighbours } from './net/neighbours.js';
import { pingBinary, pingDetailed, type PingResult } from './net/ping.js';

type Echo = Awaited<ReturnType<typeof pingDetailed>>;
import type { ObservationDraft, Probe, ProbeContext } from './types.js';

export interface GatewayData {
  ip: string;
  mac?: string;
  rttMs?: number;
  lossPct: number;
  /** Extension: what a router said instead of a reply, e.g. `Destination Net Unreachable from 192.168.1.1`. */
  icmpError?: string;
  /** Extension: ping's own error (no route from this machine, cut by the deadline, no permission). */
  error?: string;
}

export interface TargetData {
  ip: string;
  rttMs?: number;
  lossPct: number;
  icmpError?: string;
  error?: string;
}

export interface WanSummaryData {
  reachable: string[];
  unreachable: string[];
}

export interface HopData {
  ttl: number;
  address?: string;
  /** Extension: the target itself answered within two hops, so it is the second hop. */
  reachedTarget?: boolean;
  /** Extension: the target the TTL-limited echo was sent to. */
  target: string;
  /** Extension: why that destination: a WAN target, the public-address service's host, a DDNS resolver. */
  purpose?: HopPurpose;
}

export type HopPurpose = 'wan-target' | 'public-ip' | 'ddns-resolver';
/** The hop past the gateway is asked towards at most this many destinations (one far one is enough). */
export const MAX_HOP_DESTINATIONS = 4;

/**
 * Where to ask for the hop past the gateway: the WAN targets, the public-address
 * services' hosts and the DDNS resolvers (IPv4 literals only). A destination
 * that is itself within two hops says nothing past the gateway, so several
 * are asked and one far one gives the answer.
 */
export function hopDestinations(config: ProbeContext['config']): Array<{ ip: string; purpose: HopPurpose }> {
  const out = new Map<string, HopPurpose>();
  const add = (ip: string | undefined, purpose: HopPurpose) => {
    if (ip && isIPv4(ip) && !out.has(ip)) out.set(ip, purpose);
  };
  for (const t of config.wan.targets) add(t, 'wan-target');
  for (const source of config.ddns.publicIp) {
    try {
      add(new URL(source).hostname, 'public-ip');
    } catch {
      // Not a URL: the ddns probe says so.
    }
  }
  for (const r of config.ddns.resolvers) add(r, 'ddns-resolver');
  return [...out].slice(0, MAX_HOP_DESTINATIONS).map(([ip, purpose]) => ({ ip, purpose }));
}

export const HOP_TTL = 2;
const ECHO = { count: 3, intervalMs: 200 } as const;

export const wanProbe: Probe = {
  name: 'wan',
  title: 'Gateway and internet: reachability, round-trip time and loss; the hop past the gateway',
  vantages: ['inside'],
  async run(ctx: ProbeContext): Promise<void> {
    try {
      pingBinary();
    } catch (err) {
      ctx.emit({ check: 'probe', subject: 'wan', status: 'error', reason: 'unsupported', summary: errorMessage(err) });
      return;
    }
    const gateway = ctx.config.router.ip;
    const targets = [...new Set(ctx.config.wan.targets.filter(isIPv4))];
    if (!gateway && targets.length === 0) {
      ctx.emit({
        check: 'probe', subject: 'wan', status: 'error', reason: 'not-configured',
        summary: 'nothing to check: set `router.ip` and `wan.targets` in netdoctor.yaml (the machine has no default gateway to take them from)',
      });
      return;
    }
    // Every echo shares one budget, leaving the runner a moment to collect what was emitted.
    const timeoutMs = Math.max(500, Math.min(1500, ctx.deadline - Date.now() - 300));
    const opts = { ...ECHO, timeoutMs, signal: ctx.signal };

    const destinations = targets.length ? hopDestinations(ctx.config) : [];
    const [gw, results, hops] = await Promise.all([
      gateway ? pingDetailed(gateway, opts) : Promise.resolve(undefined),
      mapLimit(targets, 8, (t) => pingDetailed(t, opts)),
      mapLimit(destinations, MAX_HOP_DESTINATIONS, (d) => pingDetailed(d.ip, { count: 2, intervalMs: 200, ttl: HOP_TTL, timeoutMs, signal: ctx.signal })),
    ]);
    if (ctx.signal.aborted) return;

    if (gateway && gw) {
      const mac = ctx.config.interface && gw.received > 0 ? await gatewayMac(ctx.config.interface, gateway, ctx.signal) : undefined;
      ctx.emit(echoObservation('gateway', gw, mac));
    } else {
      ctx.emit({
        check: 'gateway', subject: 'gateway', status: 'skipped', reason: 'not-configured',
        summary: 'no gateway to check: set `router.ip` in netdoctor.yaml',
      });
    }

    for (const r of results) ctx.emit(echoObservation('target', r));

    if (targets.length === 0) {
      ctx.emit({ check: 'summary', subject: 'wan', status: 'skipped', reason: 'not-configured', summary: 'no internet targets to check: set `wan.targets` in netdoctor.yaml' });
      ctx.emit({ check: 'hop', subject: String(HOP_TTL), status: 'skipped', reason: 'not-configured', summary: 'no internet target to trace towards: set `wan.targets`' });
      return;
    }

    const measured = results.filter((r) => !pingFailed(r));
    const reachable = measured.filter((r) => r.received > 0).map((r) => r.target);
    const unreachable = measured.filter((r) => r.received === 0).map((r) => r.target);
    if (measured.length === 0) {
      ctx.emit({
        check: 'summary', subject: 'wan', status: 'error', reason: 'unmeasured',
        summary: `no internet target could be pinged: ${results[0].error}`,
        data: { reachable, unreachable } satisfies WanSummaryData,
      });
    } else {
      ctx.emit({
        check: 'summary',
        subject: 'wan',
        status: reachable.length > 0 ? 'ok' : 'fail',
        reason: reachable.length > 0 ? 'up' : 'down',
        summary: reachable.length > 0
          ? `the internet answers (${reachable.length} of ${targets.length} targets: ${reachable.join(', ')})`
          : `no internet target answers (${unreachable.join(', ')})${gw && gw.received > 0 ? ` though the gateway ${gateway} does: the problem is past the router` : ''}`,
        values: { reachable: reachable.length, targets: targets.length },
        data: { reachable, unreachable } satisfies WanSummaryData,
      });
    }

    // The first WAN target's hop keeps the subject `2` it always had; the others say where they were asked towards.
    hops.forEach((h, i) => ctx.emit(hopObservation(h, destinations[i].purpose, i === 0 ? String(HOP_TTL) : `${HOP_TTL}/${h.target}`)));
  },
};

/** ping's own failures (missing binary, no permission, aborted) are not the network's. */
function pingFailed(r: PingResult): boolean {
  return r.error !== undefined && !/^no route to /.test(r.error) && r.sent === 0;
}

function echoObservation(check: 'gateway' | 'target', r: Echo, mac?: string): ObservationDraft {
  const what = check === 'gateway' ? `the gateway ${r.target}` : r.target;
  if (pingFailed(r)) {
    return {
      check, subject: r.target, status: 'error', reason: /permission/i.test(r.error ?? '') ? 'permission' : 'unmeasured',
      summary: `could not ping ${what}: ${r.error}`,
      labels: { ip: r.target },
      data: { ip: r.target, lossPct: r.lossPct, error: r.error } satisfies TargetData,
    };
  }
  const up = r.received > 0;
  const icmpError = up ? undefined : r.icmpErrors.map((e) => `${e.message} from ${e.from}`).join('; ') || undefined;
  const data: GatewayData = {
    ip: r.target,
    ...(mac ? { mac } : {}),
    ...(r.avgRttMs !== undefined ? { rttMs: r.avgRttMs } : {}),
    lossPct: r.lossPct,
    ...(icmpError ? { icmpError } : {}),
    ...(r.error ? { error: r.error } : {}),
  };
  return {
    check,
    subject: r.target,
    status: up ? 'ok' : 'fail',
    reason: up ? 'reachable' : 'unreachable',
    summary: up
      ? `${what} answers: ${formatDuration(r.avgRttMs, { spaced: true, fine: true })} average, ${r.lossPct}% loss`
      : `${what} does not answer (${r.sent} echo requests, none answered${icmpError ? `; ${icmpError}` : ''}${r.error ? `; ${r.error}` : ''})`,
    labels: { ip: r.target },
    values: { ...(r.avgRttMs !== undefined ? { rtt_ms: r.avgRttMs } : {}), loss_pct: r.lossPct },
    data,
  };
}

function hopObservation(r: PingResult, purpose: HopPurpose, subject: string): ObservationDraft {
  const address = r.ttlExceededFrom ?? (r.received > 0 ? r.target : undefined);
  const data: HopData = { ttl: HOP_TTL, target: r.target, purpose, ...(address ? { address } : {}), ...(!r.ttlExceededFrom && address ? { reachedTarget: true } : {}) };
  if (address) {
    return {
      check: 'hop', subject, status: 'ok', reason: 'found', labels: { target: r.target },
      summary: r.ttlExceededFrom
        ? `the first router past the gateway (towards ${r.target}) is ${address}`
        : `${r.target} answers within ${HOP_TTL} hops, so it is the first address past the gateway`,
      data,
    };
  }
  if (pingFailed(r)) {
    return { check: 'hop', subject, status: 'error', reason: 'unmeasured', labels: { target: r.target }, summary: `could not send a TTL-limited echo: ${r.error}`, data };
  }
  return {
    check: 'hop', subject, status: 'fail', reason: 'no-answer', labels: { target: r.target },
    summary: `nothing answered an echo with TTL ${HOP_TTL} towards ${r.target} (no router past the gateway said "time to live exceeded")`,
    data,
  };
}

/** The gateway's MAC, from the neighbour table just after it answered. Informational, so any failure is silent. */
async function gatewayMac(iface: string, ip: string, signal: AbortSignal): Promise<string | undefined> {
  try {
    const table = await readNeighbours(iface, { signal, timeoutMs: 1000 });
    return table.entries.find((e) => e.ip === ip && e.mac && e.state !== 'FAILED' && e.state !== 'INCOMPLETE')?.mac;
  } catch {
    return undefined;
  }
}
