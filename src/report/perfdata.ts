/**
 * Nagios performance data for the status line, per the monitoring-plugins
 * guidelines: `label=value[UOM];warn;crit;min;max`, space-separated. Labels
 * are the Graphite paths without the prefix (`dns.192_168_1_10.latency_ms`),
 * so PNP4Nagios and Graphite show the same names. Units come from the value
 * names (`_ms` → ms, `_s` → s, `_pct` → %); counts are unitless.
 */
import type { CheckReport } from './json.js';
import { metricSegment } from '../sinks/graphite.js';

const UNIT: Array<[RegExp, string]> = [[/_ms$/, 'ms'], [/_s$/, 's'], [/_pct$/, '%']];

/** `'label'` quoted when it holds anything but letters, digits, `_`, `-` and `.`; `'` and `=` cannot appear. */
function label(text: string): string {
  const clean = text.replace(/['=]/g, '_');
  return /^[A-Za-z0-9_.-]+$/.test(clean) ? clean : `'${clean}'`;
}

/** Numbers as plain decimals (no exponent), at most 6 decimals. */
function num(n: number): string {
  return String(Number(n.toFixed(6)));
}

export function perfdata(report: CheckReport): string {
  const out: string[] = [`duration=${num(report.durationMs / 1000)}s;;;0`];
  for (const severity of ['critical', 'warning', 'unknown'] as const) {
    out.push(`findings_${severity}=${report.findings.filter((f) => f.severity === severity && !f.outOfScope).length};;;0`);
  }
  for (const o of report.observations) {
    for (const [key, value] of Object.entries(o.values)) {
      if (!Number.isFinite(value)) continue;
      const uom = UNIT.find(([re]) => re.test(key))?.[1] ?? '';
      const min = uom === '%' ? ';;;0;100' : value >= 0 ? ';;;0' : '';
      out.push(`${label(`${o.probe}.${metricSegment(o.subject)}.${key}`)}=${num(value)}${uom}${min}`);
    }
  }
  return out.join(' ');
}
