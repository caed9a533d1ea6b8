/**
 * A finished run as Prometheus metrics (names in docs/observations.md), for
 * `serve`'s /metrics and for node_exporter's textfile collector, which reads
 * `<dir>/netdoctor.prom`: written to a temporary file and renamed, so the
 * collector never reads half a file.
 */
import { join } from 'node:path';
import { Gauge, Registry } from 'prom-client';
import type { CheckReport } from '../report/json.js';
import { writeFileAtomic } from '../shared/disk.js';
import type { RunStatus } from '../shared/exit-codes.js';

export const TEXTFILE_NAME = 'netdoctor.prom';

/** The same codes as the exit status and Graphite's check.status. */
export const STATUS_VALUE: Record<RunStatus, number> = { ok: 0, warning: 1, critical: 2, unknown: 3 };

/** Labels every finding series has; a finding label with one of these names is written `finding_<name>`. */
const FINDING_LABELS = ['id', 'severity', 'root', 'site', 'vantage'];

/** `[a-zA-Z_:][a-zA-Z0-9_:]*` for metric names, without the colon for label names. */
export function metricName(text: string): string {
  const s = text.replace(/[^A-Za-z0-9_]/g, '_');
  return /^[A-Za-z_]/.test(s) ? s : `_${s}`;
}

/**
 * Prometheus wants base units in names: `_ms` and `_s` values become
 * `_seconds`, `_pct` becomes `_ratio` (0-1); other values keep their names.
 */
export function inBaseUnits(key: string, value: number): { name: string; value: number } {
  if (key.endsWith('_ms')) return { name: `${key.slice(0, -3)}_seconds`, value: value / 1000 };
  if (key.endsWith('_s')) return { name: `${key.slice(0, -2)}_seconds`, value };
  if (key.endsWith('_pct')) return { name: `${key.slice(0, -4)}_ratio`, value: value / 100 };
  return { name: key, value };
}

/** One registry holding the run: observation values, status, findings, duration and time. */
export function registryOf(report: CheckReport): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ site: report.site, vantage: report.vantage });

  // One gauge per probe and value name (netdoctor_dns_latency_ms), a series per check and subject.
  const gauges = new Map<string, Gauge>();
  for (const o of report.observations) {
    for (const [key, raw] of Object.entries(o.values)) {
      if (!Number.isFinite(raw)) continue;
      const { name: base, value } = inBaseUnits(key, raw);
      const name = `netdoctor_${metricName(o.probe)}_${metricName(base)}`;
      let g = gauges.get(name);
      if (!g) {
        g = new Gauge({ name, help: `Observation value ${key} of the ${o.probe} probe (see docs/observations.md).`, labelNames: ['check', 'subject'], registers: [registry] });
        gauges.set(name, g);
      }
      g.set({ check: o.check, subject: o.subject }, value);
    }
  }

  new Gauge({ name: 'netdoctor_status', help: 'Verdict of the last run: 0 ok, 1 warning, 2 critical, 3 unknown.', registers: [registry] })
    .set(STATUS_VALUE[report.status]);
  new Gauge({ name: 'netdoctor_run_duration_seconds', help: 'How long the last run took.', registers: [registry] })
    .set(report.durationMs / 1000);
  new Gauge({ name: 'netdoctor_last_run_timestamp_seconds', help: 'When the last run started, Unix time.', registers: [registry] })
    .set(Date.parse(report.startedAt) / 1000);

  const labelOf = (k: string) => (FINDING_LABELS.includes(metricName(k)) ? `finding_${metricName(k)}` : metricName(k));
  const extra = [...new Set(report.findings.flatMap((f) => Object.keys(f.labels).map(labelOf)))].sort();
  const finding = new Gauge({
    name: 'netdoctor_finding',
    help: 'One series per finding of the last run (value 1); root="true" when nothing explains it.',
    labelNames: ['id', 'severity', 'root', ...extra],
    registers: [registry],
  });
  for (const f of report.findings) {
    const labels: Record<string, string> = { id: f.id, severity: f.severity, root: String(f.root) };
    for (const [k, v] of Object.entries(f.labels)) labels[labelOf(k)] = v;
    finding.set(labels, 1);
  }
  const counts = new Gauge({ name: 'netdoctor_findings', help: 'Findings of the last run by severity.', labelNames: ['severity'], registers: [registry] });
  for (const severity of ['critical', 'warning', 'unknown', 'info']) counts.set({ severity }, report.findings.filter((f) => f.severity === severity).length);
  return registry;
}

/** The run in the text exposition format. */
export function exposition(report: CheckReport): Promise<string> {
  return registryOf(report).metrics();
}

/** Writes `<dir>/netdoctor.prom` atomically (temporary file + rename in the same directory); returns its path. */
export async function writeTextfile(dir: string, report: CheckReport): Promise<string> {
  const text = await exposition(report);
  const target = join(dir, TEXTFILE_NAME);
  // node_exporter reads only *.prom, so the temporary file is never collected.
  writeFileAtomic(target, text, 0o644);
  return target;
}
