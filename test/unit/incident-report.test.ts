/**
 * `netdoctor report` end to end in-process (argv → exit code, stdout,
 * stderr, files), and the three formats: the Markdown sections, the HTML
 * file that needs nothing from outside itself, JSON for tools. Histories are
 * written by the real writer with runs diagnosed by the real engine from the
 * recorded scenarios.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { run as runReport } from '../../src/commands/report.js';
import { loadScenario } from '../../src/commands/diagnose.js';
import { diagnose } from '../../src/diagnose/index.js';
import { main } from '../../src/program.js';
import type { Observation } from '../../src/probes/types.js';
import { History } from '../../src/history/history.js';
import type { IncidentListDocument, ReportDocument } from '../../src/report/incident.js';
import { buildCheckReport, type CheckReport } from '../../src/report/json.js';
import { finding, sampleReport } from '../support/reports.js';

const T0 = Date.parse('2026-03-01T08:00:00Z');
const MINUTE = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

const diagnosed = new Map<string, CheckReport>();

function checkReport(name: string, at: number, edit?: (o: Observation[]) => Observation[]): CheckReport {
  if (!edit) {
    // The same scenario diagnoses the same way: once, then restamped.
    let r = diagnosed.get(name);
    if (!r) diagnosed.set(name, (r = checkReport(name, 0, (o) => o)));
    return { ...r, startedAt: iso(at), observations: r.observations.map((o) => ({ ...o, at: iso(at) })) };
  }
  const s = loadScenario(name);
  const observations = (edit ? edit(s.run.observations) : s.run.observations).map((o) => ({ ...o, at: iso(at) }));
  return buildCheckReport('0.0.0-test', s.config, { startedAt: iso(at), durationMs: 5000, vantage: 'inside', observations }, diagnose(observations, s.config));
}

interface Setup {
  dir: string;
  config: string;
  db: string;
}

/** A config file whose history.path holds runs following the plan (one a minute from T0). */
function setup(plan: Array<[string, number]> | 'no-file' | 'empty'): Setup {
  const dir = mkdtempSync(join(tmpdir(), 'nd-report-'));
  const db = join(dir, 'state', 'history.db');
  const config = join(dir, 'netdoctor.yaml');
  writeFileSync(config, `site: test\nhistory:\n  path: ${db}\n`);
  if (plan === 'no-file') return { dir, config, db };
  const h = History.open(db);
  if (plan !== 'empty') {
    let t = T0;
    const reports: CheckReport[] = [];
    for (const [name, n] of plan) for (let i = 0; i < n; i++, t += MINUTE) reports.push(checkReport(name, t));
    h.recordRuns(reports);
  }
  h.close();
  return { dir, config, db };
}

const OUTAGES: Array<[string, number]> = [['healthy', 3], ['unplugged-pi', 5], ['healthy', 4], ['ddns-stale', 4], ['healthy', 3]];

/** Runs the CLI in-process; what it printed and its exit code. */
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const code = await main(args);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

afterEach(() => vi.restoreAllMocks());

describe('netdoctor report: choosing what to report', () => {
  it('--list shows every incident with its root cause; --format json gives the same to tools', async () => {
    const s = setup(OUTAGES);
    const md = await cli(['report', '--list', '--config', s.config]);
    expect(md.code).toBe(0);
    expect(md.stdout).toContain('# Incidents: 2');
    expect(md.stdout).toContain('19 runs from 2026-03-01 08:00:00 UTC to 2026-03-01 08:18:00 UTC');
    expect(md.stdout).toMatch(/\| 4 \| 2026-03-01 08:03:00 \| 5m \| 5 \| critical \| DHCP server missing on eth0/);
    expect(md.stdout).toMatch(/\| 13 \| 2026-03-01 08:12:00 \| 4m \| 4 \| warning \| DDNS name home\.dyn\.example\.net is stale/);
    const json = await cli(['report', '--list', '--format', 'json', '--config', s.config]);
    const doc = JSON.parse(json.stdout) as IncidentListDocument;
    expect(doc.history).toMatchObject({ path: s.db, runs: 19 });
    expect(doc.incidents.map((i) => [i.id, i.roots.map((r) => r.id)])).toEqual([[4, ['dhcp-server-missing']], [13, ['ddns-stale']]]);
  });

  it('without a choice it reports the last incident; --incident picks one; --since every one in the stretch', async () => {
    const s = setup(OUTAGES);
    const last = await cli(['report', '--config', s.config]);
    expect(last.code).toBe(0);
    expect(last.stdout).toMatch(/^# Incident 13: DDNS name home\.dyn\.example\.net is stale/);
    const first = await cli(['report', '--incident', '4', '--format', 'json', '--config', s.config]);
    const doc = JSON.parse(first.stdout) as ReportDocument;
    expect(doc.selection).toBe('incident 4');
    expect(doc.incidents.map((r) => r.incident.id)).toEqual([4]);
    expect((JSON.parse((await cli(['report', '--incident', '#4', '--format', 'json', '--config', s.config])).stdout) as ReportDocument).incidents[0].incident.id).toBe(4);

    const out = join(s.dir, 'since.json');
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    await runReport({ config: s.config, since: 10 * MINUTE, format: 'json', output: out, now: T0 + 20 * MINUTE });
    expect((JSON.parse(readFileSync(out, 'utf8')) as ReportDocument).incidents.map((r) => r.incident.id)).toEqual([13]);
    await runReport({ config: s.config, since: 30 * MINUTE, format: 'json', output: out, now: T0 + 20 * MINUTE });
    expect((JSON.parse(readFileSync(out, 'utf8')) as ReportDocument).incidents.map((r) => r.incident.id)).toEqual([4, 13]);
  });

  it('a history without incidents says so and exits 0, in every format', async () => {
    const s = setup([['healthy', 6]]);
    const md = await cli(['report', '--config', s.config]);
    expect(md.code).toBe(0);
    expect(md.stdout).toMatch(/# No incidents\n\nNo incidents: the history holds 6 runs from 2026-03-01 08:00:00 UTC to 2026-03-01 08:05:00 UTC, and none of them/);
    const since = await cli(['report', '--since', '2h', '--config', s.config]);
    expect(since.stdout).toContain('No incidents in the last 2h: the history holds 6 runs');
    const json = JSON.parse((await cli(['report', '--format', 'json', '--config', s.config])).stdout) as ReportDocument;
    expect(json.incidents).toEqual([]);
    expect((await cli(['report', '--list', '--config', s.config])).stdout).toContain('No run was judged critical or warning');
  });
});

describe('netdoctor report: clear errors, exit 3', () => {
  it('no history file: names the path and says how one is made', async () => {
    const s = setup('no-file');
    const r = await cli(['report', '--config', s.config]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`there is no run history at ${s.db} (history.path)`);
    expect(r.stderr).toContain('netdoctor check');
    expect(existsSync(s.db)).toBe(false); // a report never creates one
  });

  it('an empty history', async () => {
    const s = setup('empty');
    const r = await cli(['report', '--list', '--config', s.config]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`the run history ${s.db} holds no runs yet`);
  });

  it('an unknown incident id lists the valid ones; a run inside an incident points at it', async () => {
    const s = setup(OUTAGES);
    const r = await cli(['report', '--incident', '99', '--config', s.config]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`there is no incident 99 in the history ${s.db}; incidents are: 13 (2026-03-01 08:12, DDNS name`);
    expect(r.stderr).toContain('4 (2026-03-01 08:03, DHCP server missing');
    const inside = await cli(['report', '--incident', '6', '--config', s.config]);
    expect(inside.stderr).toContain('run 6 is part of incident 4: did you mean --incident 4?');
    const word = await cli(['report', '--incident', 'latest', '--config', s.config]);
    expect(word.code).toBe(3);
    expect(word.stderr).toContain('--incident "latest" is not an incident id');
  });

  it('flags that contradict each other', async () => {
    const s = setup(OUTAGES);
    const both = await cli(['report', '--incident', '4', '--last', '--config', s.config]);
    expect(both.code).toBe(3);
    expect(both.stderr).toContain('choose one of --incident, --last and --since (got --incident and --last)');
    const list = await cli(['report', '--list', '--incident', '4', '--config', s.config]);
    expect(list.code).toBe(3);
    expect(list.stderr).toContain('--list lists the incidents; it does not take --incident');
    const format = await cli(['report', '--format', 'pdf', '--config', s.config]);
    expect(format.code).toBe(3);
    expect(format.stderr).toMatch(/Allowed choices are md, html, json/);
  });

  it('an output that cannot be written: says why, and leaves no half-written file', async () => {
    const s = setup(OUTAGES);
    const missing = await cli(['report', '-o', join(s.dir, 'nope', 'r.md'), '--config', s.config]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain(`cannot write the report on incident 13 to ${join(s.dir, 'nope', 'r.md')}: the directory ${join(s.dir, 'nope')} does not exist`);
    const isDir = join(s.dir, 'adir');
    mkdirSync(isDir);
    expect((await cli(['report', '-o', isDir, '--config', s.config])).stderr).toContain('it is a directory');
    const underFile = await cli(['report', '-o', join(s.config, 'r.md'), '--config', s.config]);
    expect(underFile.stderr).toContain(`${s.config} is not a directory`);
    expect(readdirSync(s.dir).sort()).toEqual(['adir', 'netdoctor.yaml', 'state']);
  });

  it('-o writes the whole file and says where', async () => {
    const s = setup(OUTAGES);
    const file = join(s.dir, 'report.html');
    writeFileSync(file, 'an older report');
    const r = await cli(['report', '--incident', '4', '--format', 'html', '-o', file, '--config', s.config]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(new RegExp(`wrote the report on incident 4 to ${file} \\(\\d+\\.\\d KB\\)`));
    expect(readFileSync(file, 'utf8')).toMatch(/^<!DOCTYPE html>[\s\S]*<\/html>\n$/);
    expect(readdirSync(s.dir).filter((f) => f.includes('.tmp'))).toEqual([]);
  });
});

describe('the report formats', () => {
  it('Markdown: every section, the symptom order, fixes and what cleared', async () => {
    const s = setup(OUTAGES);
    const md = (await cli(['report', '--incident', '4', '--config', s.config])).stdout;
    const sections = [...md.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
    expect(sections).toEqual(['Summary', 'Timeline', 'Root cause and how netdoctor knows', 'What followed', 'Fixes', 'Open questions']);
    expect(md).toContain('it began between 2026-03-01 08:02:00 UTC (the last run before, which did not see it) and 2026-03-01 08:03:00 UTC (the first run that did)');
    expect(md).toContain('recovered by 2026-03-01 08:08:00 UTC (the first healthy run)');
    expect(md).toContain('- `dhcp:summary:dhcp` — **fail** (no-offer)');
    const followed = md.split('## What followed')[1].split('## Fixes')[0];
    const order = [...followed.matchAll(/^\d+\. . \*\*(.+?)\*\*/gm)].map((m) => m[1]);
    expect(order).toEqual([
      expect.stringMatching(/^pi-dns is missing/),
      expect.stringMatching(/^DNS server 192\.168\.1\.10 \(pi-dns\) is silent/),
      expect.stringMatching(/^pi-vpn is missing/),
      expect.stringMatching(/^Port forward UDP 1194/),
    ]);
    expect(md).toContain('_cleared at 2026-03-01 08:08:00 UTC: a fix was applied, or it went away by itself._');
    expect(md).toMatch(/\*\*1\. Turn the router's DHCP server back on/);
    expect(md).toContain('None: every finding was explained by a root cause');
  });

  it('Markdown: a symptom that outlasted its root, an ongoing incident, text that would break a table', async () => {
    const dhcpFine = (o: Observation[]) => [...o.filter((x) => x.probe !== 'dhcp'), ...loadScenario('healthy').run.observations.filter((x) => x.probe === 'dhcp')];
    const dir = mkdtempSync(join(tmpdir(), 'nd-report-'));
    const db = join(dir, 'h.db');
    const config = join(dir, 'c.yaml');
    writeFileSync(config, `history: { path: ${db} }\n`);
    const h = History.open(db);
    const reports = [checkReport('healthy', T0), ...[1, 2, 3].map((m) => checkReport('unplugged-pi', T0 + m * MINUTE)), checkReport('unplugged-pi', T0 + 4 * MINUTE, dhcpFine)];
    // and then a run whose finding says things Markdown would read as formatting
    const odd = sampleReport(T0 + 5 * MINUTE, { broken: true });
    odd.findings = [finding('host-missing', { host: 'pi|dns' }, { title: 'pi|dns *gone* <b>x</b>', severity: 'critical' })];
    reports.push(odd);
    h.recordRuns(reports);
    h.close();
    const md = (await cli(['report', '--config', config])).stdout;
    expect(md).toMatch(/\*\*Outlasted its root cause by 1m\*\*/);
    expect(md).toContain('**still there at the last run: not fixed yet**');
    expect(md).toContain('Not recovered at the last run (2026-03-01 08:05:00 UTC)');
    expect(md).toContain('pi\\|dns \\*gone\\* \\<b\\>x\\</b\\>');
    for (const row of md.split('\n').filter((l) => l.startsWith('| ') && l.includes('gone'))) {
      // the timeline has 3 cells, the findings table 7: no cell split by the title
      expect([5, 9]).toContain(row.replace(/\\\|/g, '').split('|').length);
    }
  });

  it('HTML: one self-contained file with the SVG timeline, the root cause marked, and nothing to fetch or run', async () => {
    const s = setup(OUTAGES);
    const html = (await cli(['report', '--incident', '4', '--format', 'html', '--config', s.config])).stdout;
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html.match(/<svg /g)).toHaveLength(1);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|<object|@import|\ssrc=|\shref=|url\((?!#)/i);
    const lanes = [...html.matchAll(/data-lane="([^"]+)"/g)].map((m) => m[1]);
    expect(lanes).toEqual(['probe:dhcp', 'probe:hosts', 'probe:wan', 'probe:dns', 'probe:vpn', 'probe:ddns', 'host:pi-dns', 'host:pi-vpn']);
    expect(html).toContain('class="label root">◆ dhcp</text>');
    expect(html).toContain('◆ root cause first seen');
    expect([...html.matchAll(/data-role="(\w+)"/g)].map((m) => m[1])).toEqual(['root', 'symptom', 'symptom', 'symptom', 'symptom']);
    // red for the failing lanes, green for the rest
    expect(html).toMatch(/<g class="lane" data-lane="probe:dhcp">[\s\S]*?fill="#d73a2f"/);
    expect(html).toContain('@media print');
  });

  it('HTML of a long flapping outage: lanes drawn one pixel column at a time, flaps merged into bars', async () => {
    const plan: Array<[string, number]> = [['healthy', 3]];
    for (let i = 0; i < 900; i++) plan.push(['unplugged-pi', 1], ['healthy', 1]);
    plan.push(['healthy', 3]);
    const s = setup(plan);
    const html = (await cli(['report', '--format', 'html', '--config', s.config])).stdout;
    const dhcp = /<g class="lane" data-lane="probe:dhcp">([\s\S]*?)<\/g>/.exec(html)![1];
    const rects = dhcp.match(/<rect /g)!.length;
    expect(rects).toBeLessThan(800); // 1,800 runs, one rect per pixel column at most (here the worst of each column: fail)
    expect(dhcp).toContain('#d73a2f');
    const root = /<g class="finding"[^>]*data-role="root">([\s\S]*?)<\/g>/.exec(html)![1];
    expect(root.match(/<rect /g)!.length).toBeLessThan(100);
    expect(root).toMatch(/seen in \d+ stretches from/);
    expect(Buffer.byteLength(html)).toBeLessThan(1_000_000);
  });

  it('HTML escapes whatever the history holds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nd-report-'));
    const db = join(dir, 'h.db');
    const config = join(dir, 'c.yaml');
    writeFileSync(config, `history: { path: ${db} }\n`);
    const h = History.open(db);
    const bad = sampleReport(T0, { broken: true });
    bad.findings = [finding('host-missing', { host: 'x' }, { title: '<script>alert(1)</script>', explanation: '"quoted" & <b>', fixes: [{ title: 'fix <i>', steps: ['</li><script>'], snippet: { file: '<f>', text: '</pre><script>' } }] })];
    h.recordRuns([sampleReport(T0 - MINUTE), bad, sampleReport(T0 + MINUTE)]);
    h.close();
    const html = (await cli(['report', '--format', 'html', '--config', config])).stdout;
    expect(html).not.toMatch(/<script|<\/pre><|<i>|<b>/);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('&quot;quoted&quot; &amp; &lt;b&gt;');
  });
});
