/**
 * The engine: match → explain → rank. Pure and synchronous: the same
 * observations and config always give the same diagnosis, with no clock, no
 * I/O and no randomness, so any incident replays exactly from its saved run.
 *
 * 1. match: every rule turns observations into finding drafts; probes that
 *    could not run (skipped, errored, absent) become unknowns — never silence.
 * 2. explain: explanation edges, scoped by labels, link causes to symptoms.
 *    Explained findings are kept and marked `suppressedBy`; what nothing
 *    explains is a root. Explanation is transitive (a root explains its
 *    symptoms' symptoms), and each finding's explanation is extended with the
 *    chain that followed from it.
 * 3. rank: roots first — by the worst severity they account for, then by how
 *    long a chain they start (what broke first), then by layer (addresses
 *    before names before the VPN); their symptoms follow, depth first.
 */
import type { Config } from '../config/resolve.js';
import { PROBE_NAMES, type Observation, type ProbeName } from '../probes/types.js';
import { errorMessage } from '../shared/errors.js';
import { headOf } from '../shared/text.js';
import type { RunStatus } from '../shared/exit-codes.js';
import { setcapFix } from './fixes.js';
import { FAMILIES, makeContext, type ExplainEdge, type Family, type FindingDraft, type Rule } from './rule.js';
import type { Diagnosis, Finding, Fix, Severity } from './types.js';

export const SEVERITY_ORDER: readonly Severity[] = ['critical', 'warning', 'unknown', 'info'];
/** 0 for the worst (critical), growing as it gets milder. */
export const severityRank = (s: Severity): number => SEVERITY_ORDER.indexOf(s);

/** `id{label=value,…}` with labels sorted (`wan-down{}` without labels); values that would be ambiguous are quoted. */
export function findingKey(id: string, labels: Record<string, string>): string {
  const entries = Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const value = (v: string) => (/^[^,{}="\s]+$/.test(v) ? v : JSON.stringify(v));
  return `${id}{${entries.map(([k, v]) => `${k}=${value(v)}`).join(',')}}`;
}

interface Node {
  draft: FindingDraft;
  key: string;
  family: Family;
  /**
   * Order of production: rule order, then each rule's own order, which
   * follows the config (hosts, servers, forwards as listed), never the order
   * observations arrived in. The user's order breaks ties before the key does.
   */
  seq: number;
  causes: Set<Node>;
  effects: Set<Node>;
}

/** The probe each family mostly reads, for the family of a probe-level unknown. */
const FAMILY_OF_PROBE: Record<ProbeName, Family> = { dhcp: 'dhcp', hosts: 'addressing', wan: 'wan', dns: 'dns', ddns: 'ddns', vpn: 'vpn', router: 'wan' };

const PROBE_TOPIC: Record<ProbeName, string> = {
  dhcp: 'DHCP',
  hosts: 'Host addresses',
  wan: 'Gateway and internet',
  dns: 'DNS',
  vpn: 'VPN',
  ddns: 'DDNS name',
  router: "The router's own view",
};

const OUT_OF_SCOPE_REASONS = new Set(['not-selected', 'other-vantage', 'not-configured', 'not-run']);

export function diagnoseWith(
  rules: readonly Rule[],
  edges: readonly ExplainEdge[],
  observations: readonly Observation[],
  config: Config,
): Diagnosis {
  const ctx = makeContext(observations, config);
  const nodes = new Map<string, Node>();
  let seq = 0;
  const add = (draft: FindingDraft, family: Family) => {
    const key = findingKey(draft.id, draft.labels);
    const existing = nodes.get(key);
    if (existing) {
      // Two rules saw the same thing: one finding, with the evidence of both.
      for (const e of draft.evidence) if (!existing.draft.evidence.includes(e)) existing.draft.evidence.push(e);
      return;
    }
    nodes.set(key, { draft: { ...draft, evidence: [...new Set(draft.evidence)] }, key, family, seq: seq++, causes: new Set(), effects: new Set() });
  };

  for (const rule of rules) {
    let drafts: FindingDraft[];
    try {
      drafts = rule.match(ctx);
    } catch (err) {
      // A saved run can hold anything; one rule tripping on it must not take the diagnosis down.
      drafts = [ruleFailed(rule, err)];
    }
    for (const d of drafts) add(d, rule.family);
  }
  for (const u of probeUnknowns(rules, observations)) add(u.draft, u.family);

  // explain
  const byId = new Map<string, Node[]>();
  for (const n of nodes.values()) {
    const list = byId.get(n.draft.id) ?? [];
    list.push(n);
    byId.set(n.draft.id, list);
  }
  for (const edge of edges) {
    for (const cause of byId.get(edge.cause) ?? []) {
      for (const effect of byId.get(edge.effect) ?? []) {
        if (cause === effect) continue;
        if (edge.when && !edge.when(cause.draft, effect.draft, config)) continue;
        cause.effects.add(effect);
        effect.causes.add(cause);
      }
    }
  }
  breakCycles([...nodes.values()]);

  // depth (nearest root) and the roots each finding follows from
  const all = [...nodes.values()];
  const roots = all.filter((n) => n.causes.size === 0);
  const depth = new Map<Node, number>();
  const rootsOf = new Map<Node, Set<Node>>();
  for (const r of roots) {
    depth.set(r, 0);
    rootsOf.set(r, new Set());
  }
  let frontier = roots;
  while (frontier.length > 0) {
    const next: Node[] = [];
    for (const n of frontier) {
      for (const e of n.effects) {
        if (!depth.has(e)) {
          depth.set(e, depth.get(n)! + 1);
          next.push(e);
        }
      }
    }
    frontier = next;
  }
  const reachRoots = (n: Node, seen = new Set<Node>()): Set<Node> => {
    const cached = rootsOf.get(n);
    if (cached) return cached;
    const out = new Set<Node>();
    seen.add(n);
    for (const c of n.causes) {
      if (seen.has(c)) continue;
      if (c.causes.size === 0) out.add(c);
      for (const r of reachRoots(c, seen)) out.add(r);
    }
    rootsOf.set(n, out);
    return out;
  };
  for (const n of all) reachRoots(n);

  // rank
  const subtree = (n: Node): Node[] => {
    const out: Node[] = [];
    const seen = new Set<Node>([n]);
    const walk = (m: Node) => {
      for (const e of sortNodes([...m.effects])) {
        if (seen.has(e)) continue;
        seen.add(e);
        out.push(e);
        walk(e);
      }
    };
    walk(n);
    return out;
  };
  const stats = new Map<Node, { worst: number; height: number; size: number }>();
  const statOf = (n: Node, stack = new Set<Node>()): { worst: number; height: number; size: number } => {
    const cached = stats.get(n);
    if (cached) return cached;
    stack.add(n);
    let worst = n.draft.outOfScope ? severityRank('info') : severityRank(n.draft.severity);
    let height = 0;
    for (const e of n.effects) {
      if (stack.has(e)) continue;
      const s = statOf(e, stack);
      worst = Math.min(worst, s.worst);
      height = Math.max(height, s.height + 1);
    }
    stack.delete(n);
    const s = { worst, height, size: subtreeSize(n) };
    stats.set(n, s);
    return s;
  };
  const subtreeSize = (n: Node) => subtree(n).length;
  function sortNodes(list: Node[]): Node[] {
    return list.sort((a, b) => {
      const sa = statOf(a);
      const sb = statOf(b);
      return (
        Number(Boolean(a.draft.outOfScope)) - Number(Boolean(b.draft.outOfScope)) ||
        sa.worst - sb.worst ||
        sb.height - sa.height ||
        sb.size - sa.size ||
        FAMILIES.indexOf(a.family) - FAMILIES.indexOf(b.family) ||
        a.seq - b.seq ||
        (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)
      );
    });
  }

  const rankedRoots = sortNodes([...roots]);
  const order: Node[] = [...rankedRoots];
  const placed = new Set<Node>(rankedRoots);
  for (const r of rankedRoots) {
    for (const n of subtree(r)) {
      if (!placed.has(n)) {
        placed.add(n);
        order.push(n);
      }
    }
  }

  const findings: Finding[] = order.map((n) => toFinding(n, subtree(n), depth.get(n) ?? 0, rootsOf.get(n) ?? new Set()));
  return { status: statusOf(findings), findings };
}

function toFinding(n: Node, below: Node[], depth: number, roots: Set<Node>): Finding {
  const d = n.draft;
  let explanation = d.explanation;
  let impact = d.impact;
  if (below.length > 0) {
    const chain = unique(below.map((m) => m.draft.consequence).filter((c): c is string => Boolean(c)));
    if (chain.length > 0) explanation = `${explanation.trimEnd()} What followed: ${chain.join('; ')}.`;
    // The effects people feel are at the ends of the chain (what could not be judged is not felt).
    const felt = unique(below.filter((m) => m.effects.size === 0 && m.draft.severity !== 'unknown').map((m) => m.draft.impact).filter(Boolean));
    impact = unique([d.impact, ...felt]).join(' ');
  }
  const finding: Finding = {
    id: d.id,
    key: n.key,
    severity: d.severity,
    root: n.causes.size === 0,
    title: d.title,
    explanation,
    impact,
    labels: { ...d.labels },
    evidence: [...d.evidence],
    explains: [...n.effects].map((e) => e.key).sort(),
    suppressedBy: [...n.causes].map((c) => c.key).sort(),
    fixes: d.fixes,
    depth,
    rootKeys: [...roots].map((r) => r.key).sort(),
  };
  if (d.outOfScope) finding.outOfScope = true;
  return finding;
}

function unique<T>(list: T[]): T[] {
  return [...new Set(list)];
}

/**
 * Edges are written so that causes sit upstream of effects, but a cycle
 * (two findings explaining each other) would leave it with no root and the
 * whole chain invisible. Whatever no root reaches gets its best-ranked member
 * promoted to a root, so every finding hangs beneath some root.
 */
function breakCycles(all: Node[]): void {
  for (;;) {
    const reached = new Set<Node>();
    const stack = all.filter((n) => n.causes.size === 0);
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (reached.has(n)) continue;
      reached.add(n);
      for (const e of n.effects) stack.push(e);
    }
    const stranded = all.filter((n) => !reached.has(n));
    if (stranded.length === 0) return;
    stranded.sort((a, b) => severityRank(a.draft.severity) - severityRank(b.draft.severity) || FAMILIES.indexOf(a.family) - FAMILIES.indexOf(b.family) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const promoted = stranded[0];
    for (const c of promoted.causes) c.effects.delete(promoted);
    promoted.causes.clear();
  }
}

/**
 * The run's status: the worst severity over every finding (explained ones
 * too), where `unknown` only counts when nothing is worse, `info` never, and
 * out-of-scope unknowns (probes the user left out) never change it.
 */
export function statusOf(findings: readonly Pick<Finding, 'severity' | 'outOfScope'>[]): RunStatus {
  let status: RunStatus = 'ok';
  for (const f of findings) {
    if (f.outOfScope) continue;
    if (f.severity === 'critical') return 'critical';
    if (f.severity === 'warning') status = 'warning';
    else if (f.severity === 'unknown' && status === 'ok') status = 'unknown';
  }
  return status;
}

function ruleFailed(rule: Rule, err: unknown): FindingDraft {
  return {
    id: 'rule-failed',
    labels: { rule: rule.id },
    severity: 'unknown',
    title: `netdoctor could not apply its ${rule.id} rule to this run: ${errorMessage(err)}`,
    explanation: `The ${rule.id} rule judges ${rule.question}; it stopped on data it did not expect, so that question stays open for this run.`,
    impact: `Nothing is known about ${rule.question}.`,
    evidence: [],
    fixes: [{
      title: 'Report the run that tripped the rule',
      steps: ['Save the run with netdoctor check --json > run.json and attach it to a bug report, with the message above.'],
    }],
  };
}

interface ProbeUnknown {
  draft: FindingDraft;
  family: Family;
}

/**
 * One unknown per probe that could not do its work, naming every question
 * left open because of it. Probes the user left out (--only/--skip), meant
 * for the other vantage, with nothing configured, or absent from the saved
 * run are out of scope: shown, never counted against the run.
 */
export function probeUnknowns(rules: readonly Rule[], observations: readonly Observation[]): ProbeUnknown[] {
  const needed = new Map<ProbeName, Rule[]>();
  for (const r of rules) {
    for (const p of r.needs) needed.set(p, [...(needed.get(p) ?? []), r]);
  }
  const out: ProbeUnknown[] = [];
  for (const probe of PROBE_NAMES) {
    const users = needed.get(probe);
    if (!users) continue;
    const mine = observations.filter((o) => o.probe === probe);
    const level = mine.filter((o) => o.check === 'probe' && (o.status === 'error' || o.status === 'skipped'));
    const questions = unique(users.map((r) => r.question));
    if (mine.length === 0) {
      out.push({ family: FAMILY_OF_PROBE[probe], draft: unknownDraft(probe, 'not-run', `the ${probe} probe did not run (no observations from it in this run)`, [], questions, mine.length > 0) });
      continue;
    }
    for (const o of level) {
      out.push({ family: FAMILY_OF_PROBE[probe], draft: unknownDraft(probe, o.reason, o.summary, [o.id], questions, mine.length > level.length) });
    }
  }
  return out;
}

function unknownDraft(probe: ProbeName, reason: string, summary: string, evidence: string[], questions: string[], partial: boolean): FindingDraft {
  const outOfScope = OUT_OF_SCOPE_REASONS.has(reason);
  const topic = PROBE_TOPIC[probe];
  const title = outOfScope ? `${topic} not checked: ${headOf(summary)}` : `${topic} could not be checked: ${headOf(summary)}`;
  const draft: FindingDraft = {
    id: `${probe}-unknown`,
    labels: {},
    severity: 'unknown',
    title,
    explanation:
      `${outOfScope ? `The ${probe} probe was not part of this run` : `The ${probe} probe could not do its work`} (${summary}), ` +
      `so netdoctor cannot say ${questions.join(', nor ')}${partial ? '; what it saw before it stopped is still judged' : ''}. ` +
      'That is not the same as healthy: it was not looked at.',
    impact: outOfScope ? `Not judged in this run: ${questions.join('; ')}.` : `Unknown until it can be checked: ${questions.join('; ')}.`,
    evidence,
    fixes: unknownFixes(probe, reason, summary),
  };
  if (outOfScope) draft.outOfScope = true;
  return draft;
}

function unknownFixes(probe: ProbeName, reason: string, summary: string): Fix[] {
  switch (reason) {
    case 'permission':
      return probe === 'dhcp' ? [setcapFix(summary)] : [{ title: `Give the ${probe} probe the permission it needs`, steps: [summary] }];
    case 'timeout':
      return [{
        title: 'Give the run more time',
        steps: [summary, 'Raise the deadline for one run: netdoctor check --deadline 20s, or deadline: 20s in netdoctor.yaml.'],
      }];
    case 'aborted':
      return [{ title: 'Run the check again and let it finish', steps: [`${summary}.`, 'Run sudo netdoctor check again.'] }];
    case 'exception':
      return [{
        title: 'Report the failure',
        steps: [summary, 'Run it again with NETDOCTOR_DEBUG=1 set and attach the output (and netdoctor check --json) to a bug report.'],
      }];
    case 'no-interface':
      return [{
        title: 'Tell netdoctor which interface is the LAN',
        steps: [summary, 'List the interfaces with ip -br link, then set interface: (e.g. eth0 or wlan0) in netdoctor.yaml.'],
      }];
    case 'not-selected':
      return [{ title: `Include the ${probe} probe`, steps: [`Run the check without --only/--skip leaving out ${probe}.`] }];
    case 'other-vantage':
      return [{
        title: `Check the ${probe} probe's part from the other vantage`,
        steps: [`${summary}; run netdoctor check with the other --vantage (inside the LAN, or on an outside machine) to cover it.`],
      }];
    case 'not-configured':
      return [{ title: `Configure the ${probe} check`, steps: [summary, `Add the ${probe} settings to netdoctor.yaml (see README, Configuration).`] }];
    case 'not-run':
      return [{ title: `Run the ${probe} probe`, steps: ['The saved run has no observations from it; run sudo netdoctor check to include it.'] }];
    default:
      return [{ title: `Make the ${probe} probe work`, steps: [summary] }];
  }
}
