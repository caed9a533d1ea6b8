/**
 * Incidents from the run history, and the timeline of one: the model every
 * report format (Markdown, HTML, JSON) renders. Pure reads of the history —
 * nothing here probes or writes.
 *
 * An incident is a stretch of runs judged critical or warning. A few healthy
 * runs in the middle (a probe that flapped) do not end it: only
 * `quietRuns` healthy runs in a row do, so one outage is one incident. Runs
 * that could not judge (status unknown) neither end nor extend one.
 *
 * Cost: finding incidents scans only the runs that were critical or warning
 * (the partial index runs_outages) plus, per pair of consecutive bad runs, a
 * bounded count of the healthy runs between them; building one report reads
 * the findings of that incident's runs and the observations of at most
 * {@link MAX_OBSERVATION_RUNS} of them — never the rest of the history.
 */
import { SEVERITY_ORDER, severityRank } from '../diagnose/engine.js';
import type { Finding, Fix, Severity } from '../diagnose/types.js';
import { PROBE_NAMES, type ObservationStatus, type Vantage } from '../probes/types.js';
import { formatDuration } from '../shared/duration.js';
import type { RunStatus } from '../shared/exit-codes.js';
import { plural } from '../shared/text.js';
import { humanTime } from '../shared/time.js';
import type { FindingMark, History, RunMark, StoredRun } from '../history/history.js';

/** Healthy runs in a row that end an incident. */
export const DEFAULT_QUIET_RUNS = 3;
/** Host lanes come from observations; a longer incident has them read from this many of its runs, spread over it. */
export const MAX_OBSERVATION_RUNS = 600;
/** A stretch without runs longer than this many run intervals is called out as a gap in what netdoctor saw. */
const GAP_INTERVALS = 3;

export interface IncidentOptions {
  /** Healthy runs in a row that end an incident (default 3); fewer between two bad runs are a flap. */
  quietRuns?: number;
}

export interface RootRef {
  key: string;
  id: string;
  severity: Severity;
  title: string;
}

export interface IncidentSummary {
  /** The id of the incident's first bad run: stable as the history grows. */
  id: number;
  /** The worst verdict of any of its runs. */
  status: 'critical' | 'warning';
  /** The main root cause's title. */
  title: string;
  /** Findings that were bad and never explained by another, ranked: worst first, then the one that directly explained most, then the most runs, then the earliest. */
  roots: RootRef[];
  /** The first run that saw a problem. */
  startedAt: string;
  /** The run before it, which did not: the incident began between the two. */
  previousRunAt?: string;
  /** The last run that saw a problem. */
  lastSeenAt: string;
  /** The first healthy run after it: recovered by then. Absent while it goes on. */
  recoveredAt?: string;
  ongoing: boolean;
  /** Start to recovery (or to the last bad run, while it goes on). */
  durationMs: number;
  /** Runs judged critical or warning. */
  badRuns: number;
}

export interface EvidenceLine {
  id: string;
  probe: string;
  status: ObservationStatus | 'missing';
  reason: string;
  summary: string;
}

export type FindingRole = 'root' | 'symptom' | 'unknown';

export interface FindingTimeline {
  key: string;
  id: string;
  /** Worst severity it had in the incident. */
  severity: Severity;
  /** root: never explained by another finding; symptom: explained (at least sometimes); unknown: could not be judged. */
  role: FindingRole;
  title: string;
  explanation: string;
  impact: string;
  labels: Record<string, string>;
  /** Keys of the findings that directly explained it. */
  causes: string[];
  /** Keys of the roots it follows from. */
  rootKeys: string[];
  /** Keys of the findings it directly explained. */
  explains: string[];
  firstSeenAt: string;
  lastSeenAt: string;
  /** The first run after its last sighting, which no longer had it. Absent when it was still there at the last run. */
  clearedAt?: string;
  /** Runs it was seen in. */
  runs: number;
  /** Symptoms: runs where nothing explained it (its root cause was not seen). */
  unexplainedRuns: number;
  /**
   * Stretches of consecutive runs that had it; more than one means it
   * flapped. `to` is the last run with it, `clearedAt` the next run (without it).
   */
  spans: Array<{ from: string; to: string; runs: number; clearedAt?: string }>;
  /** Symptoms: first seen minus its root cause's first seen (negative: it came first). */
  sinceRootMs?: number;
  /** Symptoms: how long it was still seen after its root cause was last seen. */
  outlastedRootMs?: number;
  /** The observations it rests on, as the first run that saw it recorded them. */
  evidence: EvidenceLine[];
  evidenceRunId: number;
  fixes: Fix[];
  /** The probes its evidence came from. */
  probes: string[];
  /** Engine rank inside the run that first saw it (0 first). */
  rank: number;
}

export type LaneStatus = ObservationStatus | 'none';

export interface Lane {
  kind: 'probe' | 'host';
  name: string;
  /** Consecutive runs with the same status, merged; `to` is where the next segment starts (or the window's end). */
  segments: Array<{ from: string; to: string; status: LaneStatus }>;
  /** A root cause's evidence came from this probe, or a root cause names this host. */
  rootCause: boolean;
}

export interface TimelineEvent {
  at: string;
  /** From the incident's start (its first bad run). */
  offsetMs: number;
  kind: 'previous-run' | 'appeared' | 'cleared' | 'reappeared' | 'status' | 'gap' | 'recovered' | 'still-bad';
  text: string;
  key?: string;
  role?: FindingRole;
  severity?: Severity;
}

export interface FixRecord {
  key: string;
  title: string;
  severity: Severity;
  /** When the finding cleared: a fix was applied (or it went away by itself). Absent: still there at the last run. */
  clearedAt?: string;
  fixes: Fix[];
}

export interface OpenQuestion {
  kind: 'unknown' | 'outlasted-root' | 'before-root' | 'unexplained' | 'several-roots' | 'gap' | 'ongoing';
  text: string;
  key?: string;
}

/** What `netdoctor report --format json` prints: the reports, and where they came from. */
export interface ReportDocument {
  netdoctor: string;
  generatedAt: string;
  history: HistoryInfo;
  /** In words: "the last incident", "incident 42", "incidents in the last 24h". */
  selection: string;
  incidents: IncidentReport[];
}

/** What `netdoctor report --list --format json` prints. */
export interface IncidentListDocument {
  netdoctor: string;
  generatedAt: string;
  history: HistoryInfo;
  incidents: IncidentSummary[];
}

export interface HistoryInfo {
  path: string;
  runs: number;
  firstRunAt?: string;
  lastRunAt?: string;
}

export interface IncidentReport {
  incident: IncidentSummary;
  site: string;
  vantages: Vantage[];
  /** Typical time between two runs around the incident (median). */
  runIntervalMs: number;
  /** From the run before the incident to its recovery (or its last run). */
  window: { from: string; to: string };
  /** Runs in the window by verdict. */
  runCounts: Record<RunStatus, number>;
  /** Roots (ranked), then symptoms by when they appeared, then what could not be judged. */
  findings: FindingTimeline[];
  timeline: TimelineEvent[];
  lanes: Lane[];
  /** Said when host lanes were read from a sample of the runs. */
  lanesNote?: string;
  fixes: FixRecord[];
  openQuestions: OpenQuestion[];
}

const iso = (ms: number) => new Date(ms).toISOString();

const worse = (a: Severity, b: Severity): Severity => (severityRank(a) <= severityRank(b) ? a : b);
const STATUS_RANK: Record<LaneStatus, number> = { none: 0, skipped: 1, ok: 2, error: 3, fail: 4 };

// ------------------------------------------------------------------ finding incidents

/** Every incident in the history, oldest first. */
export function findIncidents(history: History, opts: IncidentOptions = {}): IncidentSummary[] {
  const quiet = Math.max(1, opts.quietRuns ?? DEFAULT_QUIET_RUNS);
  const groups: RunMark[][] = [];
  let current: RunMark[] | undefined;
  for (const run of history.outageRuns()) {
    if (current && history.okRunsBetween(current[current.length - 1].at, run.at, quiet) < quiet) current.push(run);
    else groups.push((current = [run]));
  }
  return groups.map((g) => summarize(history, g));
}

function summarize(history: History, bad: RunMark[]): IncidentSummary {
  const first = bad[0];
  const last = bad[bad.length - 1];
  const previous = history.runBefore(first.at);
  const recovered = history.firstOkRunAfter(last.at);
  const totals = history.findingTotals(first.at, last.at).map((t) => ({ ...t, severity: SEVERITY_ORDER[t.severityRank] ?? 'info' }));
  const serious = totals.filter((t) => t.severity === 'critical' || t.severity === 'warning');
  const jsonOf = (key: string) => history.firstFindingOf(key, first.at, last.at);
  // Ranked worst first, then the one that directly explained most, then the most runs, then the earliest.
  const roots = serious
    .filter((t) => t.rootRuns === t.runs)
    .map((t) => ({ t, json: jsonOf(t.key) }))
    .sort((a, b) => a.t.severityRank - b.t.severityRank || (b.json?.explains.length ?? 0) - (a.json?.explains.length ?? 0) || b.t.runs - a.t.runs || a.t.firstAt - b.t.firstAt || (a.t.key < b.t.key ? -1 : 1))
    .map(({ t, json }) => ({ key: t.key, id: t.id, severity: t.severity, title: json?.title ?? t.key }));
  const worst = [...serious].sort((a, b) => a.severityRank - b.severityRank || a.firstAt - b.firstAt)[0];
  const title = roots[0]?.title ?? (worst ? (jsonOf(worst.key)?.title ?? worst.key) : 'problems without a recorded finding');
  return {
    id: first.id,
    status: bad.some((r) => r.status === 'critical') ? 'critical' : 'warning',
    title,
    roots,
    startedAt: iso(first.at),
    previousRunAt: previous ? iso(previous.at) : undefined,
    lastSeenAt: iso(last.at),
    recoveredAt: recovered ? iso(recovered.at) : undefined,
    ongoing: !recovered,
    durationMs: (recovered?.at ?? last.at) - first.at,
    badRuns: bad.length,
  };
}

interface KeyStats {
  key: string;
  id: string;
  severity: Severity;
  runs: number;
  rootRuns: number;
  firstAt: number;
  firstRunId: number;
  lastAt: number;
  lastRunId: number;
  /** First run where another finding explained it. */
  firstExplainedRunId?: number;
  /** Position inside the first run that had it (the engine ranks roots first, then their chains). */
  rank: number;
  /** Run ids that had it. */
  runIds: Set<number>;
}

function aggregate(marks: readonly FindingMark[]): Map<string, KeyStats> {
  const stats = new Map<string, KeyStats>();
  let runId = -1;
  let rank = 0;
  for (const m of marks) {
    if (m.runId !== runId) {
      runId = m.runId;
      rank = 0;
    }
    let s = stats.get(m.key);
    if (!s) {
      s = { key: m.key, id: m.id, severity: m.severity, runs: 0, rootRuns: 0, firstAt: m.at, firstRunId: m.runId, lastAt: m.at, lastRunId: m.runId, rank, runIds: new Set() };
      stats.set(m.key, s);
    }
    s.severity = worse(s.severity, m.severity);
    s.runs++;
    s.runIds.add(m.runId);
    if (m.root) {
      s.rootRuns++;
    } else if (s.firstExplainedRunId === undefined) {
      s.firstExplainedRunId = m.runId;
    }
    if (m.at >= s.lastAt) {
      s.lastAt = m.at;
      s.lastRunId = m.runId;
    }
    rank++;
  }
  return stats;
}

/** Bad, and nothing ever explained it. */
function isRootCause(s: KeyStats): boolean {
  return (s.severity === 'critical' || s.severity === 'warning') && s.rootRuns === s.runs;
}

// ------------------------------------------------------------------ one incident, in full

/** The whole story of one incident, for the report formats. */
export function buildIncidentReport(history: History, incident: IncidentSummary): IncidentReport {
  const firstAt = Date.parse(incident.startedAt);
  const lastAt = Date.parse(incident.lastSeenAt);
  const from = incident.previousRunAt ? Date.parse(incident.previousRunAt) : firstAt;
  const to = incident.recoveredAt ? Date.parse(incident.recoveredAt) : lastAt;
  const runs = history.runs({ from, to: to + 1 });
  const at = (r: StoredRun) => Date.parse(r.startedAt);
  const runIntervalMs = medianInterval(runs.length >= 3 ? runs.map(at) : history.startTimesAround(firstAt, 20));
  const windowEnd = to + runIntervalMs;

  // findings: only those of the incident's own runs (first to last bad run)
  const stats = aggregate(history.findingMarks(firstAt, lastAt));
  const observationCache = new Map<number, ReturnType<History['observationsOf']>>();
  const observationsOf = (runId: number) => {
    let o = observationCache.get(runId);
    if (!o) observationCache.set(runId, (o = history.observationsOf(runId)));
    return o;
  };

  const timelines: FindingTimeline[] = [];
  for (const s of stats.values()) {
    if (s.severity === 'info') continue;
    const firstJson = history.findingOf(s.firstRunId, s.key);
    if (!firstJson || firstJson.outOfScope) continue;
    const explainedJson = s.firstExplainedRunId !== undefined && s.firstExplainedRunId !== s.firstRunId ? history.findingOf(s.firstExplainedRunId, s.key) : undefined;
    const lastJson = s.lastRunId !== s.firstRunId ? history.findingOf(s.lastRunId, s.key) : undefined;
    const versions = [firstJson, explainedJson, lastJson].filter((f): f is Finding => f !== undefined);
    const union = (pick: (f: Finding) => readonly string[] | undefined) => [...new Set(versions.flatMap((f) => pick(f) ?? []))].sort();
    const role: FindingRole = s.rootRuns < s.runs ? 'symptom' : isRootCause(s) ? 'root' : 'unknown';
    const evidenceIds = firstJson.evidence;
    const observations = evidenceIds.length > 0 ? observationsOf(s.firstRunId) : [];
    const evidence: EvidenceLine[] = evidenceIds.map((id) => {
      const o = observations.find((x) => x.id === id);
      return o
        ? { id, probe: o.probe, status: o.status, reason: o.reason, summary: o.summary }
        : { id, probe: id.split(':')[0], status: 'missing' as const, reason: 'not-recorded', summary: 'this observation is not in the recorded run' };
    });
    const spans = spansOf(s, runs);
    timelines.push({
      key: s.key,
      id: s.id,
      severity: s.severity,
      role,
      title: firstJson.title,
      explanation: firstJson.explanation,
      impact: firstJson.impact,
      labels: firstJson.labels,
      causes: union((f) => f.suppressedBy),
      rootKeys: union((f) => f.rootKeys),
      explains: union((f) => f.explains),
      firstSeenAt: iso(s.firstAt),
      lastSeenAt: iso(s.lastAt),
      clearedAt: spans[spans.length - 1]?.clearedAt,
      runs: s.runs,
      unexplainedRuns: role === 'symptom' ? s.rootRuns : 0,
      spans,
      evidence,
      evidenceRunId: s.firstRunId,
      fixes: firstJson.fixes,
      probes: [...new Set(evidence.map((e) => e.probe))],
      rank: s.rank,
    });
  }

  // roots ranked as in the summary; symptoms measured against their roots
  const rootOrder = new Map(incident.roots.map((r, i) => [r.key, i]));
  const byKey = new Map(timelines.map((t) => [t.key, t]));
  for (const t of timelines) {
    if (t.role !== 'symptom') continue;
    const roots = t.rootKeys.map((k) => byKey.get(k)).filter((r): r is FindingTimeline => r !== undefined && r.role === 'root');
    if (roots.length === 0) continue;
    const rootFirst = Math.min(...roots.map((r) => Date.parse(r.firstSeenAt)));
    const rootLast = Math.max(...roots.map((r) => Date.parse(r.lastSeenAt)));
    t.sinceRootMs = Date.parse(t.firstSeenAt) - rootFirst;
    const outlasted = Date.parse(t.lastSeenAt) - rootLast;
    if (outlasted > 0) t.outlastedRootMs = outlasted;
  }
  const roleRank: Record<FindingRole, number> = { root: 0, symptom: 1, unknown: 2 };
  timelines.sort(
    (a, b) =>
      roleRank[a.role] - roleRank[b.role] ||
      (a.role === 'root' ? (rootOrder.get(a.key) ?? 99) - (rootOrder.get(b.key) ?? 99) : 0) ||
      Date.parse(a.firstSeenAt) - Date.parse(b.firstSeenAt) ||
      a.rank - b.rank ||
      (a.key < b.key ? -1 : 1),
  );

  const lanesResult = buildLanes(runs, windowEnd, timelines, observationsOf);
  const runCounts: Record<RunStatus, number> = { ok: 0, warning: 0, critical: 0, unknown: 0 };
  for (const r of runs) runCounts[r.status]++;
  const gaps = gapsIn(runs.map(at), runIntervalMs);

  return {
    incident,
    site: runs[0]?.site ?? '',
    vantages: [...new Set(runs.map((r) => r.vantage))],
    runIntervalMs,
    window: { from: iso(from), to: iso(windowEnd) },
    runCounts,
    findings: timelines,
    timeline: buildTimeline(incident, timelines, lanesResult.lanes, gaps, firstAt),
    lanes: lanesResult.lanes,
    lanesNote: lanesResult.note,
    fixes: timelines
      .filter((t) => t.role === 'root' || (t.role === 'unknown' && t.fixes.length > 0))
      .map((t) => ({ key: t.key, title: t.title, severity: t.severity, clearedAt: t.clearedAt, fixes: t.fixes })),
    openQuestions: openQuestions(incident, timelines, byKey, gaps, (a, b) => {
      const sa = stats.get(a);
      const sb = stats.get(b);
      return sa !== undefined && sb !== undefined && [...sa.runIds].some((id) => sb.runIds.has(id));
    }),
  };
}

function spansOf(s: KeyStats, runs: readonly StoredRun[]): FindingTimeline['spans'] {
  const spans: FindingTimeline['spans'] = [];
  let open: FindingTimeline['spans'][number] | undefined;
  for (const r of runs) {
    if (s.runIds.has(r.id)) {
      if (!open) spans.push((open = { from: r.startedAt, to: r.startedAt, runs: 0 }));
      open.to = r.startedAt;
      open.runs++;
    } else if (open) {
      open.clearedAt = r.startedAt;
      open = undefined;
    }
  }
  return spans;
}

function medianInterval(times: readonly number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  const gaps = sorted.slice(1).map((t, i) => t - sorted[i]).filter((d) => d > 0).sort((a, b) => a - b);
  if (gaps.length === 0) return 60_000;
  const mid = gaps.length >> 1;
  return Math.round(gaps.length % 2 ? gaps[mid] : (gaps[mid - 1] + gaps[mid]) / 2);
}

function gapsIn(times: readonly number[], intervalMs: number): Array<{ from: number; to: number }> {
  const out: Array<{ from: number; to: number }> = [];
  for (let i = 1; i < times.length; i++) {
    if (times[i] - times[i - 1] > GAP_INTERVALS * intervalMs) out.push({ from: times[i - 1], to: times[i] });
  }
  return out;
}

// ------------------------------------------------------------------ lanes

function buildLanes(
  runs: readonly StoredRun[],
  windowEnd: number,
  findings: readonly FindingTimeline[],
  observationsOf: (runId: number) => ReturnType<History['observationsOf']>,
): { lanes: Lane[]; note?: string } {
  const roots = findings.filter((f) => f.role === 'root');
  const rootProbes = new Set(roots.flatMap((r) => r.probes));
  const rootHosts = new Set(roots.map((r) => r.labels.host).filter((h): h is string => h !== undefined));
  const lanes: Lane[] = [];
  const starts = runs.map((r) => r.startedAt);
  const endOf = (i: number) => starts[i + 1] ?? iso(windowEnd);

  const probes = PROBE_NAMES.filter((p) => runs.some((r) => r.probeStatus[p] !== undefined));
  for (const p of probes) {
    lanes.push({ kind: 'probe', name: p, segments: merge(runs.map((r, i) => ({ from: starts[i], to: endOf(i), status: r.probeStatus[p] ?? 'none' }))), rootCause: rootProbes.has(p) });
  }

  // Host lanes need observations only where the hosts probe saw something wrong: in a run where it
  // was ok every host was ok, and where it did not run no host was looked at. A long incident has
  // those runs read up to MAX_OBSERVATION_RUNS: the first of every stretch and every change of the
  // probe's status, then a spread of the rest; a run not read takes the hosts of the last one read.
  const needs = runs.map((_, i) => i).filter((i) => runs[i].probeStatus.hosts === 'fail' || runs[i].probeStatus.hosts === 'error');
  let read = needs;
  let note: string | undefined;
  if (needs.length > MAX_OBSERVATION_RUNS) {
    const keep = new Set<number>();
    for (let j = 0; j < needs.length && keep.size < MAX_OBSERVATION_RUNS / 2; j++) {
      const i = needs[j];
      const p = needs[j - 1];
      if (j === 0 || p !== i - 1 || runs[i].probeStatus.hosts !== runs[p].probeStatus.hosts) keep.add(i);
    }
    const rest = needs.filter((i) => !keep.has(i));
    const wanted = MAX_OBSERVATION_RUNS - keep.size;
    for (let j = 0; j < wanted; j++) keep.add(rest[Math.floor((j * rest.length) / wanted)]);
    read = [...keep].sort((a, b) => a - b);
    note =
      `Host lanes: where the hosts probe found everything ok, every host was ok; of the ${needs.length} runs where it did not, ` +
      `${read.length} were read (the first of every stretch, every change, a spread of the rest), and each of the others shows the hosts of the last one read before it.`;
  }
  const observed = new Map<number, Map<string, ObservationStatus>>();
  const readRun = (i: number) => {
    const m = new Map<string, ObservationStatus>();
    for (const o of observationsOf(runs[i].id)) if (o.probe === 'hosts' && o.check === 'host') m.set(o.subject, o.status);
    observed.set(i, m);
  };
  read.forEach(readRun);
  // The hosts' names, when nothing went wrong with them: from a run where the probe ran.
  if (read.length === 0) {
    const any = runs.findIndex((r) => r.probeStatus.hosts !== undefined);
    if (any >= 0) readRun(any);
  }
  const hosts = [...new Set([...observed.values()].flatMap((m) => [...m.keys()]))].sort();
  for (const h of hosts) {
    let carried: LaneStatus = 'none';
    const segments = runs.map((r, i) => {
      const seen = observed.get(i);
      let status: LaneStatus;
      if (seen) status = carried = seen.get(h) ?? 'none';
      else if (r.probeStatus.hosts === undefined) status = 'none';
      else if (r.probeStatus.hosts === 'ok' || r.probeStatus.hosts === 'skipped') status = r.probeStatus.hosts;
      else status = carried;
      return { from: starts[i], to: endOf(i), status };
    });
    lanes.push({ kind: 'host', name: h, segments: merge(segments), rootCause: rootHosts.has(h) });
  }
  return { lanes, note };
}

function merge(segments: Lane['segments']): Lane['segments'] {
  const out: Lane['segments'] = [];
  for (const s of segments) {
    const prev = out[out.length - 1];
    if (prev && prev.status === s.status) prev.to = s.to;
    else out.push({ ...s });
  }
  return out;
}

// ------------------------------------------------------------------ timeline and questions

function buildTimeline(
  incident: IncidentSummary,
  findings: readonly FindingTimeline[],
  lanes: readonly Lane[],
  gaps: ReadonlyArray<{ from: number; to: number }>,
  startAt: number,
): TimelineEvent[] {
  const events: Array<TimelineEvent & { order: number }> = [];
  const add = (atIso: string, e: Omit<TimelineEvent, 'at' | 'offsetMs'>, order: number) =>
    events.push({ at: atIso, offsetMs: Date.parse(atIso) - startAt, ...e, order });
  if (incident.previousRunAt) add(incident.previousRunAt, { kind: 'previous-run', text: 'last run before the incident: none of what follows was seen' }, 0);

  findings.forEach((f, i) => {
    const who = f.role === 'root' ? 'root cause' : f.role === 'symptom' ? 'symptom' : 'could not judge';
    f.spans.forEach((span, j) => {
      add(span.from, { kind: j === 0 ? 'appeared' : 'reappeared', text: `${j === 0 ? 'first seen' : 'seen again'} (${who}): ${f.title}`, key: f.key, role: f.role, severity: f.severity }, 2 + i / 1000);
    });
    f.spans.forEach((span, j) => {
      if (!span.clearedAt) return;
      const last = j === f.spans.length - 1;
      const outlasted = last && f.outlastedRootMs !== undefined ? ', after its root cause had cleared' : '';
      add(span.clearedAt, { kind: 'cleared', text: `${last ? 'cleared' : 'gone for a while'} (${who}${outlasted}): ${f.title}`, key: f.key, role: f.role, severity: f.severity }, 4 + i / 1000);
    });
  });

  // Probes that changed the same way in the same run are one event: "dhcp, hosts and dns probes: ok → fail".
  const changes = new Map<string, { at: string; from: LaneStatus; to: LaneStatus; probes: string[] }>();
  for (const lane of lanes) {
    if (lane.kind !== 'probe') continue;
    lane.segments.slice(1).forEach((s, i) => {
      const from = lane.segments[i].status;
      const k = `${s.from} ${from} ${s.status}`;
      const c = changes.get(k) ?? { at: s.from, from, to: s.status, probes: [] };
      c.probes.push(lane.name);
      changes.set(k, c);
    });
  }
  for (const c of changes.values()) {
    const names = c.probes.length === 1 ? `${c.probes[0]} probe` : `${c.probes.slice(0, -1).join(', ')} and ${c.probes[c.probes.length - 1]} probes`;
    const word = (st: LaneStatus) => (st === 'none' ? 'not run' : st);
    add(c.at, { kind: 'status', text: `${names}: ${word(c.from)} → ${word(c.to)}` }, 1);
  }
  for (const g of gaps) add(iso(g.from), { kind: 'gap', text: `no runs for ${formatDuration(g.to - g.from)}: nothing was seen until ${humanTime(iso(g.to))}` }, 5);
  if (incident.recoveredAt) add(incident.recoveredAt, { kind: 'recovered', text: 'first healthy run: recovered' }, 6);
  else add(incident.lastSeenAt, { kind: 'still-bad', text: 'last run so far: not recovered yet' }, 6);

  return events
    .sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || a.order - b.order)
    .map(({ order: _order, ...e }) => e);
}

function openQuestions(
  incident: IncidentSummary,
  findings: readonly FindingTimeline[],
  byKey: ReadonlyMap<string, FindingTimeline>,
  gaps: ReadonlyArray<{ from: number; to: number }>,
  seenTogether: (a: string, b: string) => boolean,
): OpenQuestion[] {
  const out: OpenQuestion[] = [];
  const titleOf = (keys: readonly string[]) => keys.map((k) => byKey.get(k)?.title ?? k).join('; ');
  const roots = findings.filter((f) => f.role === 'root');
  const together = roots.filter((r) => roots.some((o) => o !== r && seenTogether(r.key, o.key)));
  if (together.length > 1) {
    out.push({ kind: 'several-roots', text: `${together.length} root causes that nothing links were seen in the same runs (${together.map((r) => r.title).join('; ')}): a coincidence, or a common cause netdoctor cannot see?` });
  }
  for (const f of findings) {
    if (f.role === 'unknown') {
      out.push({ kind: 'unknown', key: f.key, text: `Could not be judged in ${plural(f.runs, 'run')} (${humanTime(f.firstSeenAt)} to ${humanTime(f.lastSeenAt)}): ${f.title}` });
      continue;
    }
    if (f.role !== 'symptom') continue;
    if (f.outlastedRootMs !== undefined) {
      out.push({ kind: 'outlasted-root', key: f.key, text: `${f.title} — still seen ${formatDuration(f.outlastedRootMs)} after its root cause (${titleOf(f.rootKeys)}) was last seen; nothing netdoctor knows explains it in those runs.` });
    }
    if (f.sinceRootMs !== undefined && f.sinceRootMs < 0) {
      out.push({ kind: 'before-root', key: f.key, text: `${f.title} — seen ${formatDuration(-f.sinceRootMs)} before its root cause (${titleOf(f.rootKeys)}): did something else go wrong first?` });
    }
    if (f.unexplainedRuns > 0 && f.outlastedRootMs === undefined && !(f.sinceRootMs !== undefined && f.sinceRootMs < 0)) {
      out.push({ kind: 'unexplained', key: f.key, text: `${f.title} — unexplained in ${f.unexplainedRuns} of its ${f.runs} runs (its root cause was not seen in those).` });
    }
  }
  for (const g of gaps) out.push({ kind: 'gap', text: `No runs between ${humanTime(iso(g.from))} and ${humanTime(iso(g.to))} (${formatDuration(g.to - g.from)}): what happened then is not known.` });
  if (incident.ongoing) out.push({ kind: 'ongoing', text: `Not recovered at the last run (${humanTime(incident.lastSeenAt)}): the end of this story is not written yet.` });
  return out;
}

/** The worse of two lane statuses, for drawing many runs in one pixel. */
export function worseLaneStatus(a: LaneStatus, b: LaneStatus): LaneStatus {
  return STATUS_RANK[a] >= STATUS_RANK[b] ? a : b;
}
