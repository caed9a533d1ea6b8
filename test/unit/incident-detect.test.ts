/**
 * Incidents and timelines from histories written by the real history writer,
 * with runs diagnosed by the real engine from the recorded scenarios in
 * fixtures/ (some observations swapped to make a root cause clear before
 * its symptoms, or after them). The lab test (test/lab/report.test.ts) does
 * the same from real checks against a real network.
 */
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../src/commands/diagnose.js';
import { diagnose } from '../../src/diagnose/index.js';
import type { Observation } from '../../src/probes/types.js';
import { History } from '../../src/history/history.js';
import { buildIncidentReport, findIncidents, type IncidentSummary } from '../../src/report/incident.js';
import { buildCheckReport, type CheckReport } from '../../src/report/json.js';

const T0 = Date.parse('2026-03-01T08:00:00Z');
const MINUTE = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

const cache = new Map<string, ReturnType<typeof loadScenario>>();
function scenario(name: string) {
  let s = cache.get(name);
  if (!s) cache.set(name, (s = loadScenario(name)));
  return s;
}

/** The observations of one kind of run: a recorded scenario, or one with another scenario's probe swapped in. */
type Kind = 'healthy' | 'unplugged-pi' | 'ddns-stale' | 'no-permission' | 'dhcp-back-hosts-gone' | 'hosts-gone-dhcp-fine' | 'healthy-no-ddns';

function observationsOf(kind: Kind): { observations: Observation[]; config: ReturnType<typeof loadScenario>['config'] } {
  const swap = (base: string, probe: string, from: string) => ({
    observations: [...scenario(base).run.observations.filter((o) => o.probe !== probe), ...scenario(from).run.observations.filter((o) => o.probe === probe)],
    config: scenario(base).config,
  });
  switch (kind) {
    case 'dhcp-back-hosts-gone':
    case 'hosts-gone-dhcp-fine':
      // The Pis are still gone, but the router's DHCP answers again: nothing explains the missing hosts.
      return swap('unplugged-pi', 'dhcp', 'healthy');
    case 'healthy-no-ddns':
      // ddns left out of the run (--skip ddns): an out-of-scope unknown, which is not a problem with the network.
      return { observations: scenario('healthy').run.observations.filter((o) => o.probe !== 'ddns'), config: scenario('healthy').config };
    default:
      return { observations: scenario(kind).run.observations, config: scenario(kind).config };
  }
}

function checkReport(kind: Kind, at: number): CheckReport {
  const { observations, config } = observationsOf(kind);
  const stamped = observations.map((o) => ({ ...o, at: iso(at) }));
  return buildCheckReport('0.0.0-test', config, { startedAt: iso(at), durationMs: 5000, vantage: 'inside', observations: stamped }, diagnose(stamped, config));
}

/** Records runs one minute apart, following the plan; returns every run's start time. */
function history(plan: Array<[Kind, number]>, opts: { start?: number; step?: number } = {}): { h: History; times: number[]; kinds: Kind[] } {
  const h = History.open(':memory:');
  const step = opts.step ?? MINUTE;
  let t = opts.start ?? T0;
  const times: number[] = [];
  const kinds: Kind[] = [];
  const reports: CheckReport[] = [];
  for (const [kind, n] of plan) {
    for (let i = 0; i < n; i++) {
      reports.push(checkReport(kind, t));
      times.push(t);
      kinds.push(kind);
      t += step;
    }
  }
  h.recordRuns(reports);
  return { h, times, kinds };
}

const rootIds = (i: IncidentSummary) => i.roots.map((r) => r.id);

describe('finding incidents', () => {
  it('a healthy history has none', () => {
    const { h } = history([['healthy', 20]]);
    expect(findIncidents(h)).toEqual([]);
  });

  it('healthy → unplugged-pi → heal → ddns-stale → heal: two incidents, right roots, exact bounds', () => {
    const { h, times } = history([['healthy', 3], ['unplugged-pi', 5], ['healthy', 4], ['ddns-stale', 4], ['healthy', 3]]);
    const incidents = findIncidents(h);
    expect(incidents).toHaveLength(2);
    const [a, b] = incidents;
    expect(rootIds(a)).toEqual(['dhcp-server-missing']);
    expect(a).toMatchObject({ status: 'critical', badRuns: 5, ongoing: false, previousRunAt: iso(times[2]), startedAt: iso(times[3]), lastSeenAt: iso(times[7]), recoveredAt: iso(times[8]), durationMs: 5 * MINUTE });
    expect(a.title).toMatch(/^DHCP server missing on eth0/);
    expect(rootIds(b)).toEqual(['ddns-stale']);
    expect(b).toMatchObject({ status: 'warning', badRuns: 4, startedAt: iso(times[12]), lastSeenAt: iso(times[15]), recoveredAt: iso(times[16]) });
    // The id is the first bad run's: stable as the history grows.
    expect(h.run(a.id)!.startedAt).toBe(a.startedAt);
  });

  it('a flapping outage is one incident; enough healthy runs in a row end it', () => {
    const plan: Array<[Kind, number]> = [['healthy', 3], ['unplugged-pi', 3], ['healthy', 1], ['unplugged-pi', 2], ['healthy', 2], ['unplugged-pi', 1], ['healthy', 5]];
    const { h, times } = history(plan);
    const [only, ...rest] = findIncidents(h);
    expect(rest).toEqual([]);
    expect(only).toMatchObject({ badRuns: 6, startedAt: iso(times[3]), lastSeenAt: iso(times[11]), recoveredAt: iso(times[12]) });
    const report = buildIncidentReport(h, only);
    const root = report.findings.find((f) => f.role === 'root')!;
    expect(root.spans.map((s) => s.runs)).toEqual([3, 2, 1]);
    expect(report.timeline.filter((e) => e.key === root.key && e.kind === 'reappeared')).toHaveLength(2);
    // With a hair trigger every healthy run ends an incident.
    expect(findIncidents(h, { quietRuns: 1 })).toHaveLength(3);
  });

  it('runs that could not judge neither end an incident nor start one', () => {
    const { h, times } = history([['healthy', 3], ['unplugged-pi', 2], ['no-permission', 4], ['unplugged-pi', 2], ['healthy', 3], ['no-permission', 5], ['healthy', 3]]);
    const incidents = findIncidents(h);
    expect(incidents).toHaveLength(1);
    expect(incidents[0]).toMatchObject({ badRuns: 4, startedAt: iso(times[3]), lastSeenAt: iso(times[10]), recoveredAt: iso(times[11]) });
  });

  it('out-of-scope unknowns (a probe left out) are not incidents, and the scan uses the covering partial index', () => {
    const { h } = history([['healthy-no-ddns', 30], ['ddns-stale', 2], ['healthy-no-ddns', 5]]);
    expect(h.runs().filter((r) => r.problems > 0)).toHaveLength(37); // runs_problems alone would scan them all
    const incidents = findIncidents(h);
    expect(incidents.map(rootIds)).toEqual([['ddns-stale']]);
    const plan = h.db.prepare(`EXPLAIN QUERY PLAN SELECT id, started_at AS at, status FROM runs INDEXED BY runs_outages WHERE status IN ('critical', 'warning') AND started_at >= 0 AND started_at < 1e15 ORDER BY started_at`).all() as Array<{ detail: string }>;
    expect(plan.map((p) => p.detail).join()).toMatch(/COVERING INDEX runs_outages/);
  });

  it('an incident still going at the last run is ongoing, with no recovery time', () => {
    const { h, times } = history([['healthy', 2], ['unplugged-pi', 4]]);
    const [i] = findIncidents(h);
    expect(i).toMatchObject({ ongoing: true, recoveredAt: undefined, lastSeenAt: iso(times[5]), durationMs: 3 * MINUTE });
    const report = buildIncidentReport(h, i);
    expect(report.openQuestions.map((q) => q.kind)).toContain('ongoing');
    expect(report.findings.every((f) => f.clearedAt === undefined)).toBe(true);
    expect(report.timeline.at(-1)!.kind).toBe('still-bad');
  });
});

describe('the timeline of one incident', () => {
  it('roots first, then symptoms each after what explains it; every finding seen and cleared at the right run', () => {
    const { h, times } = history([['healthy', 3], ['unplugged-pi', 5], ['healthy', 4]]);
    const r = buildIncidentReport(h, findIncidents(h)[0]);
    expect(r.findings.map((f) => [f.id, f.role])).toEqual([
      ['dhcp-server-missing', 'root'],
      ['host-missing', 'symptom'],
      ['dns-server-down', 'symptom'],
      ['host-missing', 'symptom'],
      ['vpn-forward-stale', 'symptom'],
    ]);
    const position = new Map(r.findings.map((f, i) => [f.key, i]));
    for (const f of r.findings) for (const c of f.causes) expect(position.get(c)!).toBeLessThan(position.get(f.key)!);
    for (const f of r.findings) {
      expect(f).toMatchObject({ firstSeenAt: iso(times[3]), lastSeenAt: iso(times[7]), clearedAt: iso(times[8]), runs: 5 });
      if (f.role === 'symptom') expect(f.sinceRootMs).toBe(0);
    }
    expect(r.runIntervalMs).toBe(MINUTE);
    expect(r.runCounts).toEqual({ ok: 2, warning: 0, critical: 5, unknown: 0 });
    expect(r.openQuestions).toEqual([]);
    // The root's evidence is the observation the engine cited, as the first bad run recorded it.
    const root = r.findings[0];
    expect(root.evidence).toEqual([expect.objectContaining({ id: 'dhcp:summary:dhcp', status: 'fail', reason: 'no-offer' })]);
    expect(root.fixes.length).toBeGreaterThan(0);
    expect(r.fixes.map((f) => [f.key, f.clearedAt])).toEqual([[root.key, iso(times[8])]]);
  });

  it('a symptom that outlasts its root cause is shown, and the incident lasts until it clears', () => {
    const { h, times } = history([['healthy', 3], ['unplugged-pi', 3], ['dhcp-back-hosts-gone', 2], ['healthy', 4]]);
    const [i] = findIncidents(h);
    expect(rootIds(i)).toEqual(['dhcp-server-missing']);
    expect(i).toMatchObject({ lastSeenAt: iso(times[7]), recoveredAt: iso(times[8]), durationMs: 5 * MINUTE });
    const r = buildIncidentReport(h, i);
    const root = r.findings.find((f) => f.role === 'root')!;
    expect(root.clearedAt).toBe(iso(times[6]));
    const pidns = r.findings.find((f) => f.key === 'host-missing{host=pi-dns}')!;
    expect(pidns).toMatchObject({ role: 'symptom', clearedAt: iso(times[8]), outlastedRootMs: 2 * MINUTE, unexplainedRuns: 2, runs: 5 });
    expect(r.openQuestions.filter((q) => q.kind === 'outlasted-root').map((q) => q.key)).toEqual(
      expect.arrayContaining(['host-missing{host=pi-dns}', 'host-missing{host=pi-vpn}', 'dns-server-down{server=192.168.1.10}']),
    );
    const cleared = r.timeline.filter((e) => e.kind === 'cleared');
    expect(cleared.find((e) => e.key === root.key)!.at).toBe(iso(times[6]));
    expect(cleared.find((e) => e.key === pidns.key)!.text).toMatch(/after its root cause had cleared/);
  });

  it('a symptom seen before its root cause is an open question, with a negative lead', () => {
    const { h, times } = history([['healthy', 3], ['hosts-gone-dhcp-fine', 2], ['unplugged-pi', 3], ['healthy', 4]]);
    const [i] = findIncidents(h);
    const r = buildIncidentReport(h, i);
    const pidns = r.findings.find((f) => f.key === 'host-missing{host=pi-dns}')!;
    expect(pidns).toMatchObject({ role: 'symptom', firstSeenAt: iso(times[3]), sinceRootMs: -2 * MINUTE });
    expect(r.openQuestions.some((q) => q.kind === 'before-root' && q.key === pidns.key)).toBe(true);
    expect(i.startedAt).toBe(iso(times[3]));
  });

  it('probe and host lanes follow every run, and the root cause\'s lane is marked', () => {
    const { h, times } = history([['healthy', 3], ['unplugged-pi', 2], ['healthy', 3]]);
    const r = buildIncidentReport(h, findIncidents(h)[0]);
    const dhcp = r.lanes.find((l) => l.kind === 'probe' && l.name === 'dhcp')!;
    expect(dhcp.rootCause).toBe(true);
    expect(dhcp.segments.map((s) => [s.status, s.from])).toEqual([['ok', iso(times[2])], ['fail', iso(times[3])], ['ok', iso(times[5])]]);
    expect(r.lanes.filter((l) => l.rootCause).map((l) => l.name)).toEqual(['dhcp']);
    const hosts = r.lanes.filter((l) => l.kind === 'host').map((l) => [l.name, l.segments.map((s) => s.status)]);
    expect(hosts).toEqual([['pi-dns', ['ok', 'fail', 'ok']], ['pi-vpn', ['ok', 'fail', 'ok']]]);
    const changes = r.timeline.filter((e) => e.kind === 'status').map((e) => [e.at, e.text]);
    expect(changes).toEqual([
      [iso(times[3]), 'dhcp, hosts, dns and vpn probes: ok → fail'],
      [iso(times[5]), 'dhcp, hosts, dns and vpn probes: fail → ok'],
    ]);
  });

  it('a long incident reads host lanes from a sample of the runs where hosts failed, keeping every change', () => {
    const { h, times } = history([['healthy', 3], ['unplugged-pi', 700], ['ddns-stale', 50], ['unplugged-pi', 20], ['healthy', 3]]);
    const r = buildIncidentReport(h, findIncidents(h)[0]);
    expect(r.lanesNote).toMatch(/^Host lanes: where the hosts probe found everything ok, every host was ok; of the 720 runs where it did not, 600 were read/);
    for (const host of ['pi-dns', 'pi-vpn']) {
      const lane = r.lanes.find((l) => l.kind === 'host' && l.name === host)!;
      expect(lane.segments.map((s) => [s.status, s.from])).toEqual([['ok', iso(times[2])], ['fail', iso(times[3])], ['ok', iso(times[703])], ['fail', iso(times[753])], ['ok', iso(times[773])]]);
    }
    expect(r.lanes.find((l) => l.name === 'ddns')!.segments.map((s) => s.status)).toEqual(['ok', 'fail', 'ok']);
  });

  it('host lanes of a short incident are read from every run where the hosts probe failed', () => {
    const { h, times } = history([['healthy', 3], ['unplugged-pi', 5], ['ddns-stale', 2], ['unplugged-pi', 2], ['healthy', 3]]);
    const r = buildIncidentReport(h, findIncidents(h)[0]);
    expect(r.lanesNote).toBeUndefined();
    const lane = r.lanes.find((l) => l.kind === 'host' && l.name === 'pi-dns')!;
    expect(lane.segments.map((s) => [s.status, s.from])).toEqual([['ok', iso(times[2])], ['fail', iso(times[3])], ['ok', iso(times[8])], ['fail', iso(times[10])], ['ok', iso(times[12])]]);
  });

  it('a gap without runs inside an incident is called out', () => {
    const h = History.open(':memory:');
    const at = [0, 1, 2, 3, 4, 30, 31, 32, 33, 34].map((m) => T0 + m * MINUTE);
    const kinds: Kind[] = ['healthy', 'healthy', 'unplugged-pi', 'unplugged-pi', 'unplugged-pi', 'unplugged-pi', 'healthy', 'healthy', 'healthy', 'healthy'];
    h.recordRuns(at.map((t, i) => checkReport(kinds[i], t)));
    const r = buildIncidentReport(h, findIncidents(h)[0]);
    expect(r.openQuestions.filter((q) => q.kind === 'gap')).toHaveLength(1);
    expect(r.timeline.some((e) => e.kind === 'gap' && /26m/.test(e.text))).toBe(true);
  });
});
