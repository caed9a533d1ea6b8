/**
 * Incident transitions from one run to the next, as a pure function: the
 * state the last run left + this run's report → the new state, the messages
 * to send and the alerts Alertmanager should hold. Rules (docs/notify.md):
 * each transition is told once; the first opened and its first resolved go
 * out at once; any later message of the same incident waits until
 * `minIntervalMs` after the previous one (a flapping network), and is only
 * sent if it is still true then. Runs that could not judge (status unknown)
 * change nothing.
 */
import { severityRank } from '../../diagnose/engine.js';
import type { Finding } from '../../diagnose/types.js';
import type { CheckReport } from '../../report/json.js';
import { MESSAGE_VERSION, type Alert, type MessageCause, type NotificationMessage } from './types.js';

type Serious = 'critical' | 'warning';

export interface IncidentState {
  id: string;
  startedAt: string;
  /** The last judged run was bad. */
  bad: boolean;
  /** The last bad run: the incident is over once it is `minIntervalMs` behind a resolved message. */
  lastBadAt: string;
  /** The first healthy run after the last bad one. */
  clearedAt?: string;
  severity: Serious;
  /** Root causes of the last bad run, ranked. */
  causes: MessageCause[];
  /** Serious findings seen during the incident (bounded), for the resolved message. */
  seen: Array<{ key: string; title: string; fixes: string[] }>;
  /** The last message made for this incident. */
  told?: { kind: 'opened' | 'changed' | 'resolved'; at: string; severity: Serious; causeKeys: string[] };
  /** The incident went bad again after its resolved message: its next opened says so. */
  reopened?: boolean;
  resolvedSent: number;
}

export interface NotifyState {
  version: 1;
  lastRunAt?: string;
  incident?: IncidentState;
  /** Alerts Alertmanager holds as firing, by finding key. */
  firing: Record<string, Alert>;
}

export interface TransitionResult {
  state: NotifyState;
  messages: NotificationMessage[];
  /** Every firing alert (refreshed) and those that ended in this run (with endsAt). */
  alerts: Alert[];
}

export const EMPTY_STATE: NotifyState = { version: 1, firing: {} };

const MAX_SEEN = 50;
/** Alertmanager keeps a refreshed alert this long past the run: 4 run intervals, within these bounds. */
const HOLD_MIN_MS = 5 * 60_000;
const HOLD_MAX_MS = 24 * 3_600_000;
const HOLD_UNKNOWN_MS = 15 * 60_000;

const isSerious = (f: Finding) => (f.severity === 'critical' || f.severity === 'warning') && !f.outOfScope;
const worse = (a: Serious, b: Serious): Serious => (severityRank(a) <= severityRank(b) ? a : b);

export function nextNotifyState(prev: NotifyState | undefined, report: CheckReport, minIntervalMs: number): TransitionResult {
  const state: NotifyState = structuredClone(prev ?? EMPTY_STATE);
  const t = Date.parse(report.startedAt);
  const alerts = alertsFor(state, report, t);
  state.lastRunAt = report.startedAt;
  const messages: NotificationMessage[] = [];
  const due = (inc: IncidentState) => !inc.told || t - Date.parse(inc.told.at) >= minIntervalMs;
  // Told resolved and not bad for a whole interval: the flapping is over, the next bad run is a new incident.
  const over = (inc: IncidentState) => inc.told?.kind === 'resolved' && !inc.bad && t - Date.parse(inc.lastBadAt) >= minIntervalMs;

  if (report.status === 'critical' || report.status === 'warning') {
    const roots = report.findings.filter((f) => f.root && isSerious(f));
    let inc = state.incident;
    if (!inc || over(inc)) {
      inc = state.incident = { id: `${report.site}-${t}`, startedAt: report.startedAt, bad: true, lastBadAt: report.startedAt, severity: report.status, causes: [], seen: [], resolvedSent: 0 };
    } else if (!inc.bad) {
      inc.reopened = true;
    }
    inc.bad = true;
    inc.lastBadAt = report.startedAt;
    inc.clearedAt = undefined;
    inc.severity = worse(inc.severity, report.status);
    inc.causes = roots.map((f) => causeOf(f, report.findings));
    for (const f of report.findings.filter(isSerious)) {
      if (!inc.seen.some((s) => s.key === f.key) && inc.seen.length < MAX_SEEN) inc.seen.push({ key: f.key, title: f.title, fixes: f.fixes.map((x) => x.title) });
    }
    const keys = inc.causes.map((c) => c.key);
    if (!inc.told || inc.told.kind === 'resolved') {
      if (due(inc)) messages.push(tell(inc, 'opened', report));
    } else {
      const newCauses = keys.filter((k) => !inc.told!.causeKeys.includes(k));
      const severityFrom = severityRank(inc.severity) < severityRank(inc.told.severity) ? inc.told.severity : undefined;
      if ((newCauses.length > 0 || severityFrom) && due(inc)) {
        const m = tell(inc, 'changed', report);
        m.change = { newCauses, ...(severityFrom ? { severityFrom } : {}) };
        messages.push(m);
      }
    }
  } else if (report.status === 'ok' && state.incident) {
    const inc = state.incident;
    if (inc.bad) {
      inc.bad = false;
      inc.clearedAt = report.startedAt;
    }
    if (inc.told && inc.told.kind !== 'resolved' && (inc.resolvedSent === 0 || due(inc))) {
      messages.push(tell(inc, 'resolved', report));
    } else if (over(inc)) {
      state.incident = undefined;
    }
  }
  return { state, messages, alerts };
}

/** Makes the message for a transition and records it as told. */
function tell(inc: IncidentState, kind: 'opened' | 'changed' | 'resolved', report: CheckReport): NotificationMessage {
  const keys = inc.causes.map((c) => c.key);
  const toldKeys = kind === 'changed' && inc.told ? [...new Set([...inc.told.causeKeys, ...keys])] : keys;
  inc.told = { kind, at: report.startedAt, severity: inc.severity, causeKeys: toldKeys };
  const message: NotificationMessage = {
    version: MESSAGE_VERSION,
    kind,
    site: report.site,
    incidentId: inc.id,
    at: report.startedAt,
    severity: inc.severity,
    title: inc.causes[0]?.title ?? 'problems without a named root cause',
    startedAt: inc.startedAt,
    causes: inc.causes,
  };
  if (kind === 'opened' && inc.reopened) message.reopened = true;
  if (kind === 'resolved') {
    inc.resolvedSent++;
    inc.reopened = false;
    const clearedAt = inc.clearedAt ?? report.startedAt;
    message.resolvedAt = clearedAt;
    message.durationMs = Date.parse(clearedAt) - Date.parse(inc.startedAt);
    message.cleared = inc.seen;
  }
  return message;
}

/** A root finding as a message carries it. */
export function causeOf(f: Finding, all: readonly Finding[]): MessageCause {
  const fix = f.fixes[0];
  return {
    key: f.key,
    id: f.id,
    severity: f.severity,
    title: f.title,
    explanation: f.explanation,
    labels: f.labels,
    ...(fix ? { fix: { title: fix.title, ...(fix.steps[0] ? { firstStep: fix.steps[0] } : {}) } } : {}),
    followed: all.filter((o) => o.key !== f.key && (o.rootKeys ?? o.suppressedBy).includes(f.key)).map((o) => o.title),
  };
}

/**
 * Alertmanager's view: one alert per serious root finding, refreshed with a
 * later endsAt every run; one that is gone is sent once more with endsAt now.
 * A run that could not judge keeps the alerts as they were, refreshed.
 */
function alertsFor(state: NotifyState, report: CheckReport, t: number): Alert[] {
  const interval = state.lastRunAt ? t - Date.parse(state.lastRunAt) : undefined;
  const hold = interval && interval > 0 ? Math.min(HOLD_MAX_MS, Math.max(HOLD_MIN_MS, 4 * interval)) : HOLD_UNKNOWN_MS;
  const endsAt = new Date(t + hold).toISOString();
  if (report.status === 'unknown') {
    for (const a of Object.values(state.firing)) a.endsAt = endsAt;
    return Object.values(state.firing);
  }
  const next: Record<string, Alert> = {};
  for (const f of report.findings.filter((x) => x.root && isSerious(x))) {
    next[f.key] = { ...alertOf(f, report, state.firing[f.key]?.startsAt ?? report.startedAt), endsAt };
  }
  // Never before it started (a clock stepped back): Alertmanager refuses such an alert.
  const ended = Object.entries(state.firing).filter(([k]) => !next[k])
    .map(([, a]) => ({ ...a, endsAt: Date.parse(a.startsAt) > t ? a.startsAt : report.startedAt }));
  state.firing = next;
  return [...Object.values(next), ...ended];
}

function alertOf(f: Finding, report: CheckReport, startsAt: string): Alert {
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(f.labels)) labels[promLabel(k)] = v;
  Object.assign(labels, { alertname: f.id, site: report.site, severity: f.severity });
  const fix = f.fixes[0];
  return {
    labels,
    annotations: {
      summary: f.title,
      description: f.explanation,
      ...(fix ? { fix: fix.steps[0] ? `${fix.title}: ${fix.steps[0]}` : fix.title } : {}),
    },
    startsAt,
  };
}

/** A label name Prometheus and Alertmanager accept: [a-zA-Z_][a-zA-Z0-9_]*. */
export function promLabel(name: string): string {
  const s = name.replace(/[^A-Za-z0-9_]/g, '_');
  return /^[A-Za-z_]/.test(s) ? s : `_${s}`;
}
