/** Check reports for sink tests (history, Graphite), built the way `check` builds them. */
import type { Finding } from '../../src/diagnose/types.js';
import type { Observation } from '../../src/probes/types.js';
import type { CheckReport } from '../../src/report/json.js';

export function observation(o: Partial<Observation> & Pick<Observation, 'probe' | 'check' | 'subject'>): Observation {
  return {
    id: `${o.probe}:${o.check}:${o.subject}`,
    status: 'ok',
    reason: 'ok',
    summary: `${o.subject} fine`,
    labels: {},
    values: {},
    durationMs: 5,
    at: new Date().toISOString(),
    ...o,
  };
}

export function finding(id: string, labels: Record<string, string>, extra: Partial<Finding> = {}): Finding {
  const key = `${id}{${Object.keys(labels).sort().map((k) => `${k}=${labels[k]}`).join(',')}}`;
  return {
    id, key, severity: 'critical', root: true, title: `${id} title`, explanation: 'because', impact: 'someone',
    labels, evidence: [], explains: [], suppressedBy: [], fixes: [], ...extra,
  };
}

/** A run at `at` (epoch ms) with one DNS latency value and, when `broken`, one root finding. */
export function sampleReport(at: number, opts: { broken?: boolean; latency?: number } = {}): CheckReport {
  const latency = opts.latency ?? 12.5;
  return {
    netdoctor: '0.0.0-test',
    site: 'home',
    vantage: 'inside',
    startedAt: new Date(at).toISOString(),
    durationMs: 4321,
    status: opts.broken ? 'critical' : 'ok',
    observations: [
      observation({ probe: 'dns', check: 'server', subject: '192.168.1.10', values: { latency_ms: latency, ok: opts.broken ? 0 : 1 } }),
      observation({ probe: 'dhcp', check: 'summary', subject: 'dhcp', status: opts.broken ? 'fail' : 'ok', values: { servers: opts.broken ? 0 : 1 } }),
    ],
    findings: opts.broken ? [finding('dhcp-server-missing', { iface: 'eth0' })] : [],
  };
}
