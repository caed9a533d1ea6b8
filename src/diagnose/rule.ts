/**
 * What a rule is. Rules are data: a value per rule, grouped one file per
 * family, each saying which probes it reads and which findings it can produce,
 * and a pure `match` from the run's observations to finding drafts. Which
 * finding explains which is data too (`ExplainEdge`), scoped by labels the way
 * Alertmanager scopes inhibitions: `host-moved{host=pi-dns}` explains
 * `dns-server-down{server=192.168.1.10}` because pi-dns's expected address is
 * 192.168.1.10 — not every DNS failure.
 */
import type { Config } from '../config/resolve.js';
import type { HostConfig } from '../config/schema.js';
import type { Observation, ProbeName } from '../probes/types.js';
import { dataOf, type HostData } from './observed.js';
import type { FindingId, Fix, Severity } from './types.js';
import { lanFacts, type LanFacts } from './fixes.js';

/** Families in the order things break in: addresses first, then the way out, names, the name outside, the VPN. */
export const FAMILIES = ['dhcp', 'addressing', 'wan', 'dns', 'ddns', 'vpn'] as const;
export type Family = (typeof FAMILIES)[number];

export interface FindingDraft {
  id: FindingId;
  labels: Record<string, string>;
  severity: Severity;
  title: string;
  explanation: string;
  impact: string;
  evidence: string[];
  fixes: Fix[];
  /**
   * One clause saying what happened, for the chain of whatever explains this
   * finding: "pi-dns fell back to the link-local address 169.254.77.12".
   */
  consequence?: string;
  /** Values explanation edges compare that are not labels (a host's expected address, the DNS servers a DHCP offer names). */
  facts?: Record<string, string | string[]>;
  outOfScope?: boolean;
}

export interface Rule {
  /** Stable name of the rule, for docs and for `rule-failed` findings. */
  id: string;
  family: Family;
  /** What the rule judges, completing "netdoctor cannot say …": "whether a DHCP server answers". */
  question: string;
  /** Probes whose observations the rule reads; when one did not run, the run gets an unknown for it. */
  needs: readonly ProbeName[];
  /** Finding ids this rule can produce (docs/rules.md lists them; a test checks it). */
  produces: readonly FindingId[];
  match(ctx: RuleContext): FindingDraft[];
}

export interface ExplainEdge {
  cause: FindingId;
  effect: FindingId;
  /** Why the cause explains the effect, in words (docs/rules.md). */
  because: string;
  /** The scope: true when this cause explains this effect. Absent: any finding with these ids. */
  when?: (cause: FindingDraft, effect: FindingDraft, config: Config) => boolean;
}

/** A label or fact of a draft, as a list (facts may hold several values). */
export function valuesOf(d: FindingDraft, field: string): string[] {
  const label = d.labels[field];
  if (label !== undefined) return [label];
  const fact = d.facts?.[field];
  if (fact === undefined) return [];
  return Array.isArray(fact) ? fact : [fact];
}

/** Scope an edge by equal values: `same('expected', 'server')` — the cause's `expected` equals the effect's `server`. */
export function same(causeField: string, effectField: string): NonNullable<ExplainEdge['when']> {
  return (cause, effect) => {
    const a = valuesOf(cause, causeField);
    const b = valuesOf(effect, effectField);
    return a.some((v) => b.includes(v));
  };
}

/** Where the hosts probe found an inventory host. */
export interface HostWhereabouts {
  host: HostConfig;
  /** `unknown` when the hosts probe did not report on it. */
  state: 'at-expected' | 'moved' | 'missing' | 'conflict' | 'unknown';
  actual?: string;
  obs?: Observation;
}

export interface RuleContext {
  config: Config;
  observations: readonly Observation[];
  /** Facts about the LAN for fix snippets: prefix, mask, gateway, DNS. */
  net: LanFacts;
  /** Observations of a probe (and check), ordered by id, without the probe-level `probe` check. */
  of(probe: ProbeName, check?: string): Observation[];
  first(probe: ProbeName, check: string, subject?: string): Observation | undefined;
  whereIs(host: HostConfig): HostWhereabouts;
  hostByIp(ip: string): HostConfig | undefined;
  hostByName(name: string | undefined): HostConfig | undefined;
}

export function makeContext(observations: readonly Observation[], config: Config): RuleContext {
  const byProbe = new Map<string, Observation[]>();
  // By id, so no rule ever depends on the order concurrent probes happened to finish in.
  const sorted = [...observations].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const o of sorted) {
    if (o.check === 'probe') continue;
    const list = byProbe.get(o.probe) ?? [];
    list.push(o);
    byProbe.set(o.probe, list);
  }
  const of = (probe: ProbeName, check?: string) => {
    const list = byProbe.get(probe) ?? [];
    return check === undefined ? list : list.filter((o) => o.check === check);
  };
  const where = new Map<string, HostWhereabouts>();
  return {
    config,
    observations,
    net: lanFacts(config, of('dhcp', 'offer')),
    of,
    first: (probe, check, subject) => of(probe, check).find((o) => subject === undefined || o.subject === subject),
    whereIs(host) {
      const cached = where.get(host.name);
      if (cached) return cached;
      const obs = of('hosts', 'host').find((o) => (o.labels.host ?? o.subject) === host.name);
      let result: HostWhereabouts = { host, state: 'unknown' };
      if (obs && (obs.status === 'ok' || obs.status === 'fail')) {
        const d = dataOf<HostData>(obs);
        const actual = obs.labels.actual ?? d.actualIp;
        const state = obs.status === 'ok' ? 'at-expected' : obs.reason;
        if (state === 'at-expected' || state === 'moved' || state === 'missing' || state === 'conflict') {
          result = { host, state, actual: state === 'at-expected' ? (actual ?? host.ip) : actual, obs };
        } else {
          result = { host, state: 'unknown', obs };
        }
      }
      where.set(host.name, result);
      return result;
    },
    hostByIp: (ip) => config.hosts.find((h) => h.ip === ip),
    hostByName: (name) => (name === undefined ? undefined : config.hosts.find((h) => h.name === name)),
  };
}
