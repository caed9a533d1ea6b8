/**
 * Post-incident reports as one self-contained HTML file: inline CSS and an
 * inline SVG timeline (one lane per probe and per host, coloured by status,
 * the root cause marked, then one bar per finding). No scripts, no fonts, no
 * images, no links to fetch: it opens the same from a mail attachment, a
 * ticket or a USB stick years later, and prints on A4 or Letter.
 */
import type { Fix, Severity } from '../diagnose/types.js';
import { formatDuration } from '../shared/duration.js';
import { plural } from '../shared/text.js';
import { humanTime } from '../shared/time.js';
import {
  worseLaneStatus,
  type FindingTimeline,
  type IncidentListDocument,
  type IncidentReport,
  type Lane,
  type LaneStatus,
  type ReportDocument,
} from './incident.js';
import { MAX_TIMELINE_ROWS, noIncidentsSentence, offset, trimmed } from './markdown.js';

export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const STATUS_COLOUR: Record<LaneStatus, string> = { ok: '#2e9d57', fail: '#d73a2f', error: '#8e5bc4', skipped: '#c9c9c9', none: '#ffffff' };
const STATUS_WORD: Record<LaneStatus, string> = { ok: 'ok', fail: 'fail', error: 'error (could not measure)', skipped: 'skipped', none: 'no data' };
const SEVERITY_COLOUR: Record<Severity, string> = { critical: '#d73a2f', warning: '#e0a100', unknown: '#8e5bc4', info: '#4a90c2' };
const MARK: Record<Severity, string> = { critical: '✖', warning: '!', unknown: '?', info: 'i' };

const CSS = `
:root { --ink: #1d2329; --muted: #5c6670; --rule: #d9dee3; --bg-soft: #f5f7f9; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 1.6em; line-height: 1.25; margin: 0 0 6px; }
h2 { font-size: 1.2em; margin: 28px 0 10px; padding-bottom: 4px; border-bottom: 2px solid var(--rule); }
h3 { font-size: 1.05em; margin: 18px 0 6px; }
p, ul, ol { margin: 6px 0 10px; }
.meta { color: var(--muted); }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; color: #fff; font-weight: 600; font-size: .85em; letter-spacing: .03em; }
.badge.critical { background: ${SEVERITY_COLOUR.critical}; } .badge.warning { background: ${SEVERITY_COLOUR.warning}; color: #222; }
.badge.unknown { background: ${SEVERITY_COLOUR.unknown}; } .badge.ok { background: ${STATUS_COLOUR.ok}; }
dl.summary { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; }
dl.summary dt { font-weight: 600; } dl.summary dd { margin: 0; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 14px; font-size: .92em; }
th, td { text-align: left; vertical-align: top; padding: 4px 8px; border-bottom: 1px solid var(--rule); }
th { background: var(--bg-soft); font-weight: 600; }
td.time, td.num { white-space: nowrap; font-variant-numeric: tabular-nums; }
tr.root td { font-weight: 600; } tr.recovered td { color: ${STATUS_COLOUR.ok}; font-weight: 600; } tr.status td { color: var(--muted); }
code, pre { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: .9em; }
code { background: var(--bg-soft); padding: 0 3px; border-radius: 3px; }
pre { background: var(--bg-soft); border: 1px solid var(--rule); border-radius: 4px; padding: 8px 10px; overflow-x: auto; white-space: pre-wrap; word-break: break-word; }
.sev-critical { color: ${SEVERITY_COLOUR.critical}; } .sev-warning { color: #a87700; } .sev-unknown { color: ${SEVERITY_COLOUR.unknown}; }
.note { color: var(--muted); font-size: .9em; }
.flag { font-weight: 600; color: ${SEVERITY_COLOUR.critical}; }
.cleared { color: ${STATUS_COLOUR.ok}; font-weight: 600; } .open { color: ${SEVERITY_COLOUR.critical}; font-weight: 600; }
figure { margin: 8px 0 4px; } figure svg { width: 100%; height: auto; display: block; }
figcaption { color: var(--muted); font-size: .88em; margin-top: 4px; }
.legend span { display: inline-block; margin-right: 14px; white-space: nowrap; }
.legend i { display: inline-block; width: 12px; height: 12px; margin-right: 4px; vertical-align: -1px; border: 1px solid #888; }
article + article { margin-top: 40px; padding-top: 24px; border-top: 4px double var(--rule); }
footer { color: var(--muted); font-size: .85em; margin-top: 36px; }
@media print {
  body { font-size: 10.5pt; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  main { max-width: none; padding: 0; }
  h2 { break-after: avoid; } figure, tr, pre, li { break-inside: avoid; }
  article + article { break-before: page; border-top: none; }
  pre { white-space: pre-wrap; }
}
@page { margin: 14mm; }
`;

function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="netdoctor">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

export function renderHtml(doc: ReportDocument): string {
  const title = doc.incidents.length === 1 ? `Incident ${doc.incidents[0].incident.id}: ${doc.incidents[0].incident.title}` : `netdoctor: ${doc.selection}`;
  const body = doc.incidents.length === 0
    ? `<article><h1>No incidents</h1><p>${esc(noIncidentsSentence(doc.history, doc.selection))}</p></article>`
    : doc.incidents.map(incidentHtml).join('\n');
  const footer = `<footer>Written by netdoctor ${esc(doc.netdoctor)} at ${esc(humanTime(doc.generatedAt))} from the run history <code>${esc(doc.history.path)}</code>.</footer>`;
  return page(`${title} — netdoctor`, `${body}\n${footer}`);
}

function incidentHtml(r: IncidentReport): string {
  const inc = r.incident;
  const roots = r.findings.filter((f) => f.role === 'root');
  const symptoms = r.findings.filter((f) => f.role === 'symptom');
  const oneDay = r.window.from.slice(0, 10) === r.window.to.slice(0, 10);
  const t = (iso: string) => (oneDay ? iso.slice(11, 19) : `${iso.slice(5, 10)} ${iso.slice(11, 19)}`);
  const parts: string[] = [];

  parts.push(`<article id="incident-${inc.id}">`);
  parts.push(`<h1>Incident ${inc.id}: ${esc(inc.title)}</h1>`);
  parts.push(
    `<p class="meta"><span class="badge ${inc.status}">${inc.status.toUpperCase()}</span> site ${esc(r.site || '(unnamed)')} · ${esc(r.vantages.join(', ') || 'inside')} · ` +
      `${esc(humanTime(inc.startedAt))} · ${inc.ongoing ? `ongoing for ${formatDuration(inc.durationMs)}` : `${formatDuration(inc.durationMs)} to recovery`}</p>`,
  );

  // summary
  const bad = r.runCounts.critical + r.runCounts.warning;
  const total = bad + r.runCounts.ok + r.runCounts.unknown;
  const what = roots.length > 0 ? roots.map((f) => `${esc(f.title)} <span class="sev-${f.severity}">(${f.severity})</span>`).join('; ') : esc(inc.title);
  const followed = symptoms.length > 0 ? ` ${plural(symptoms.length, 'more finding')} followed from ${roots.length === 1 ? 'it' : 'them'}.` : '';
  const began = inc.previousRunAt
    ? `Began between ${esc(humanTime(inc.previousRunAt))} (the last run before, which did not see it) and ${esc(humanTime(inc.startedAt))} (the first run that did).`
    : `Already there at the first run in the history, ${esc(humanTime(inc.startedAt))}.`;
  const ended = inc.recoveredAt
    ? ` Last seen ${esc(humanTime(inc.lastSeenAt))}; recovered by ${esc(humanTime(inc.recoveredAt))} (the first healthy run).`
    : ` <span class="open">Still there at the last run, ${esc(humanTime(inc.lastSeenAt))}.</span>`;
  const impact = roots[0]?.impact ?? r.findings[0]?.impact;
  parts.push('<section><h2>Summary</h2><dl class="summary">');
  parts.push(`<dt>What broke</dt><dd>${what}.${followed}</dd>`);
  parts.push(`<dt>When</dt><dd>${began}${ended}</dd>`);
  parts.push(
    `<dt>How long</dt><dd>${inc.ongoing ? `${formatDuration(inc.durationMs)} so far` : `${formatDuration(inc.durationMs)} to recovery`}; ${bad} of the ${total} runs around it saw problems` +
      `${r.runCounts.unknown ? `, ${r.runCounts.unknown} could not judge` : ''}. Runs came every ${formatDuration(r.runIntervalMs)} or so: every time here is good to within that.</dd>`,
  );
  if (impact) parts.push(`<dt>Impact</dt><dd>${esc(impact)}</dd>`);
  parts.push('</dl></section>');

  // timeline
  parts.push('<section><h2>Timeline</h2>');
  parts.push(`<figure>${timelineSvg(r)}<figcaption>${legend()}<br>Times UTC. ◆ marks the root cause: the lane its evidence came from, and when it was first seen (dashed line).${r.lanesNote ? ` ${esc(r.lanesNote)}` : ''}</figcaption></figure>`);
  parts.push('<table><thead><tr><th>Time (UTC)</th><th>Offset</th><th>Event</th></tr></thead><tbody>');
  for (const e of trimmed(r.timeline)) {
    if (e === undefined) {
      parts.push(`<tr><td class="time">…</td><td class="num">…</td><td class="note">${r.timeline.length - MAX_TIMELINE_ROWS} more events in between (all of them: --format json)</td></tr>`);
      continue;
    }
    const cls = e.kind === 'recovered' ? 'recovered' : e.kind === 'status' ? 'status' : e.role === 'root' && e.kind === 'appeared' ? 'root' : '';
    const mark = e.severity && (e.kind === 'appeared' || e.kind === 'reappeared') ? `<span class="sev-${e.severity}">${MARK[e.severity]}</span> ` : e.kind === 'recovered' ? '✔ ' : '';
    parts.push(`<tr class="${cls}"><td class="time">${t(e.at)}</td><td class="num">${offset(e.offsetMs)}</td><td>${mark}${esc(e.text)}</td></tr>`);
  }
  parts.push('</tbody></table>');
  parts.push('<h3>Each finding</h3><table><thead><tr><th>Finding</th><th>Role</th><th>First seen</th><th>Last seen</th><th>Cleared</th><th>Runs</th><th>After its root cause</th></tr></thead><tbody>');
  for (const f of r.findings) {
    const after = f.role === 'symptom' && f.sinceRootMs !== undefined ? offset(f.sinceRootMs) : f.role === 'root' ? '—' : '';
    const outlasted = f.outlastedRootMs !== undefined ? ` <span class="flag">outlasted it by ${formatDuration(f.outlastedRootMs)}</span>` : '';
    parts.push(
      `<tr class="${f.role === 'root' ? 'root' : ''}"><td><span class="sev-${f.severity}">${MARK[f.severity]}</span> ${esc(f.title)}</td><td>${roleWord(f)}</td>` +
        `<td class="time">${t(f.firstSeenAt)}</td><td class="time">${t(f.lastSeenAt)}</td>` +
        `<td class="time">${f.clearedAt ? t(f.clearedAt) : '<span class="open">not cleared</span>'}</td><td class="num">${f.runs}${f.spans.length > 1 ? ` (in ${f.spans.length} stretches)` : ''}</td><td>${after}${outlasted}</td></tr>`,
    );
  }
  parts.push('</tbody></table></section>');

  // root causes
  parts.push(`<section><h2>Root cause${roots.length === 1 ? '' : 's'} and how netdoctor knows</h2>`);
  if (roots.length === 0) parts.push('<p>netdoctor found no root cause: every bad finding was, at some point, explained by another. See the open questions.</p>');
  for (const f of roots) {
    const span = f.firstSeenAt === f.lastSeenAt ? `once, at ${esc(humanTime(f.firstSeenAt))}` : `in ${plural(f.runs, 'run')} from ${esc(humanTime(f.firstSeenAt))} to ${esc(humanTime(f.lastSeenAt))}`;
    const leads = symptoms.filter((s) => s.rootKeys.includes(f.key)).length;
    parts.push(`<h3><span class="sev-${f.severity}">${MARK[f.severity]}</span> ${esc(f.title)}</h3><p>${esc(f.explanation)}</p>`);
    parts.push(
      `<p><strong>How netdoctor knows:</strong> it was seen ${span}, and no other finding explained it in any of them${leads ? `; ${plural(leads, 'finding')} followed from it` : ''}. ` +
        `The observations it rests on, as run ${f.evidenceRunId} recorded them:</p>`,
    );
    parts.push(f.evidence.length === 0 ? '<p class="note">(this finding cites no observation)</p>' : `<ul>${f.evidence.map((e) => `<li><code>${esc(e.id)}</code> — <strong>${esc(e.status)}</strong> (${esc(e.reason)}): ${esc(e.summary)}</li>`).join('')}</ul>`);
  }
  parts.push('</section>');

  // what followed
  parts.push('<section><h2>What followed</h2>');
  if (symptoms.length === 0) parts.push('<p>Nothing: no other finding followed from the root cause.</p>');
  else {
    parts.push('<ol>');
    for (const f of symptoms) {
      const causes = f.causes.map((k) => r.findings.find((x) => x.key === k)?.title ?? k);
      const when = f.sinceRootMs === undefined ? '' : f.sinceRootMs === 0 ? 'seen in the same run as its root cause' : f.sinceRootMs > 0 ? `seen ${formatDuration(f.sinceRootMs)} after its root cause` : `<span class="flag">seen ${formatDuration(-f.sinceRootMs)} before its root cause</span>`;
      const bits = [when, causes.length ? `explained by: ${causes.map(esc).join('; ')}` : '', f.clearedAt ? `<span class="cleared">cleared ${esc(humanTime(f.clearedAt))}</span>` : '<span class="open">not cleared at the last run</span>'].filter(Boolean);
      parts.push(`<li><strong><span class="sev-${f.severity}">${MARK[f.severity]}</span> ${esc(f.title)}</strong> — ${bits.join('; ')}.`);
      if (f.outlastedRootMs !== undefined) parts.push(`<br><span class="flag">Outlasted its root cause by ${formatDuration(f.outlastedRootMs)}</span>: still seen after the root cause had cleared.`);
      if (f.spans.length > 1) parts.push(`<br>It came and went: seen in ${f.spans.length} separate stretches.`);
      parts.push(`<br><span class="note">Impact: ${esc(f.impact)}</span></li>`);
    }
    parts.push('</ol>');
  }
  parts.push('</section>');

  // fixes
  parts.push('<section><h2>Fixes</h2>');
  if (r.fixes.length === 0) parts.push('<p>netdoctor has no fix to offer for this incident.</p>');
  for (const fx of r.fixes) {
    const state = fx.clearedAt
      ? `<span class="cleared">Cleared at ${esc(humanTime(fx.clearedAt))}</span>: a fix was applied, or it went away by itself.`
      : '<span class="open">Still there at the last run: not fixed yet.</span>';
    parts.push(`<h3><span class="sev-${fx.severity}">${MARK[fx.severity]}</span> ${esc(fx.title)}</h3><p>${state}</p>`);
    fx.fixes.forEach((fix, i) => parts.push(fixHtml(fix, fx.fixes.length > 1 ? i + 1 : undefined)));
  }
  parts.push('</section>');

  // open questions
  parts.push('<section><h2>Open questions</h2>');
  parts.push(r.openQuestions.length === 0 ? '<p>None: every finding was explained by a root cause, and no symptom outlasted its root cause.</p>' : `<ul>${r.openQuestions.map((q) => `<li>${esc(q.text)}</li>`).join('')}</ul>`);
  parts.push('</section></article>');
  return parts.join('\n');
}

function roleWord(f: FindingTimeline): string {
  return f.role === 'root' ? '<strong>root cause</strong>' : f.role === 'symptom' ? 'symptom' : 'could not judge';
}

function fixHtml(fix: Fix, n: number | undefined): string {
  const steps = fix.steps.length ? `<ol>${fix.steps.map((s) => `<li>${esc(s)}</li>`).join('')}</ol>` : '';
  const snippet = fix.snippet ? `<p class="note"><code>${esc(fix.snippet.file)}</code>:</p><pre>${esc(fix.snippet.text)}</pre>` : '';
  return `<p><strong>${n !== undefined ? `${n}. ` : ''}${esc(fix.title)}</strong></p>${steps}${snippet}`;
}

function legend(): string {
  const statuses: LaneStatus[] = ['ok', 'fail', 'error', 'skipped', 'none'];
  const sev: Severity[] = ['critical', 'warning', 'unknown'];
  return `<span class="legend">${statuses.map((s) => `<span><i style="background:${STATUS_COLOUR[s]}"></i>${STATUS_WORD[s]}</span>`).join('')}` +
    `${sev.map((s) => `<span><i style="background:${SEVERITY_COLOUR[s]}"></i>finding: ${s}</span>`).join('')}</span>`;
}

// ------------------------------------------------------------------ the SVG timeline

const W = 1000;
const LABEL_W = 240;
const PLOT_X = LABEL_W + 10;
const PLOT_W = W - PLOT_X - 12;
const LANE_H = 18;
const LANE_GAP = 5;
const AXIS_H = 34;

const TICK_STEPS_MS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800].map((s) => s * 1000);

/** The SVG alone (exported for tests). */
export function timelineSvg(r: IncidentReport): string {
  const from = Date.parse(r.window.from);
  const to = Math.max(Date.parse(r.window.to), from + 1000);
  const x = (iso: string | number) => PLOT_X + ((typeof iso === 'number' ? iso : Date.parse(iso)) - from) / (to - from) * PLOT_W;
  const rows: string[] = [];
  let y = AXIS_H;

  const group = (title: string) => {
    rows.push(`<text x="8" y="${y + 13}" class="group">${esc(title)}</text>`);
    y += LANE_H + 2;
  };
  const laneRow = (lane: Lane) => {
    const label = `${lane.rootCause ? '◆ ' : ''}${lane.name}`;
    rows.push(`<g class="lane" data-lane="${esc(lane.kind)}:${esc(lane.name)}">`);
    rows.push(`<text x="${LABEL_W}" y="${y + 13}" text-anchor="end" class="${lane.rootCause ? 'label root' : 'label'}">${esc(label)}</text>`);
    rows.push(`<rect x="${PLOT_X}" y="${y}" width="${PLOT_W}" height="${LANE_H}" fill="url(#nodata)" stroke="#c0c6cc" stroke-width="0.5"/>`);
    for (const s of binned(lane.segments, from, to)) {
      const x0 = x(s.from);
      const w = Math.max(0.8, x(s.to) - x0);
      if (s.status === 'none') continue;
      rows.push(`<rect x="${x0.toFixed(2)}" y="${y}" width="${w.toFixed(2)}" height="${LANE_H}" fill="${STATUS_COLOUR[s.status]}"><title>${esc(`${lane.name}: ${STATUS_WORD[s.status]} from ${humanTime(s.from)} to ${humanTime(s.to)}`)}</title></rect>`);
    }
    if (lane.rootCause) rows.push(`<rect x="${PLOT_X - 1}" y="${y - 1}" width="${PLOT_W + 2}" height="${LANE_H + 2}" fill="none" stroke="#1d2329" stroke-width="1.6"/>`);
    rows.push('</g>');
    y += LANE_H + LANE_GAP;
  };

  const probes = r.lanes.filter((l) => l.kind === 'probe');
  const hosts = r.lanes.filter((l) => l.kind === 'host');
  if (probes.length) {
    group('Probes');
    probes.forEach(laneRow);
  }
  if (hosts.length) {
    group('Hosts');
    hosts.forEach(laneRow);
  }
  const findings = r.findings;
  if (findings.length) {
    group('Findings');
    for (const f of findings) {
      const label = `${f.role === 'root' ? '◆ ' : ''}${truncate(f.title, f.role === 'root' ? 30 : 38)}`;
      rows.push(`<g class="finding" data-key="${esc(f.key)}" data-role="${f.role}">`);
      rows.push(`<text x="${LABEL_W}" y="${y + 13}" text-anchor="end" class="${f.role === 'root' ? 'label root' : 'label'}"><title>${esc(f.title)}</title>${esc(label)}</text>`);
      for (const bar of bars(f, x, r.window.to)) {
        const w = Math.max(2, bar.x1 - bar.x0);
        const seen = bar.spans === 1 ? `seen ${humanTime(bar.from)} to ${humanTime(bar.to)}` : `seen in ${bar.spans} stretches from ${humanTime(bar.from)} to ${humanTime(bar.to)}`;
        rows.push(
          `<rect x="${bar.x0.toFixed(2)}" y="${y + 2}" width="${w.toFixed(2)}" height="${LANE_H - 4}" rx="3" fill="${SEVERITY_COLOUR[f.severity]}"${f.role === 'root' ? ' stroke="#1d2329" stroke-width="1.6"' : f.role === 'unknown' ? ' fill-opacity="0.6"' : ''}>` +
            `<title>${esc(`${f.title} — ${f.role}, ${seen}${bar.clearedAt ? `, gone by ${humanTime(bar.clearedAt)}` : ', still there at the last run'}`)}</title></rect>`,
        );
      }
      if (f.outlastedRootMs !== undefined) {
        rows.push(`<text x="${Math.min(W - 4, x(f.spans[f.spans.length - 1]?.clearedAt ?? r.window.to) + 4).toFixed(2)}" y="${y + 13}" class="flag">outlasted its root cause</text>`);
      }
      rows.push('</g>');
      y += LANE_H + LANE_GAP;
    }
  }
  const height = y + 6;

  // axis and markers, drawn over the lanes
  const marks: string[] = [];
  const step = TICK_STEPS_MS.find((s) => (to - from) / s <= 8) ?? TICK_STEPS_MS[TICK_STEPS_MS.length - 1];
  const showDate = new Date(from).toISOString().slice(0, 10) !== new Date(to).toISOString().slice(0, 10);
  for (let tick = Math.ceil(from / step) * step; tick <= to; tick += step) {
    const iso = new Date(tick).toISOString();
    const text = step >= 86_400_000 ? iso.slice(5, 10) : showDate && tick % 86_400_000 === 0 ? iso.slice(5, 10) : step >= 60_000 ? iso.slice(11, 16) : iso.slice(11, 19);
    marks.push(`<line x1="${x(tick).toFixed(2)}" y1="${AXIS_H - 6}" x2="${x(tick).toFixed(2)}" y2="${height - 4}" class="grid"/>`);
    marks.push(`<text x="${x(tick).toFixed(2)}" y="${AXIS_H - 10}" text-anchor="middle" class="tick">${text}</text>`);
  }
  const inc = r.incident;
  const vline = (at: string, cls: string, label: string, anchor: 'start' | 'end') => {
    const xx = x(at).toFixed(2);
    marks.push(`<line x1="${xx}" y1="${AXIS_H - 4}" x2="${xx}" y2="${height - 4}" class="${cls}"/>`);
    marks.push(`<text x="${anchor === 'start' ? Number(xx) + 3 : Number(xx) - 3}" y="${AXIS_H - 22}" text-anchor="${anchor}" class="${cls}-label">${esc(label)}</text>`);
  };
  vline(inc.startedAt, 'start', 'incident start', 'end');
  // Every root cause gets its dashed line where it was first seen; the label once per place.
  const rootStarts = [...new Set(r.findings.filter((f) => f.role === 'root').map((f) => f.firstSeenAt))].sort();
  rootStarts.forEach((at, i) => {
    const xx = x(at);
    marks.push(`<line x1="${xx.toFixed(2)}" y1="${AXIS_H - 4}" x2="${xx.toFixed(2)}" y2="${height - 4}" class="rootline"/>`);
    const label = i === 0 ? '◆ root cause first seen' : '◆ root cause';
    const right = xx + 130 < W;
    marks.push(`<text x="${(right ? xx + 3 : xx - 3).toFixed(2)}" y="${AXIS_H - 22}" text-anchor="${right ? 'start' : 'end'}" class="rootline-label">${label}</text>`);
  });
  if (inc.recoveredAt) vline(inc.recoveredAt, 'recovered', 'recovered', x(inc.recoveredAt) + 70 < W ? 'start' : 'end');

  const style = `<style>
    text { font: 11px system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; fill: #1d2329; }
    .group { font-weight: 700; font-size: 11px; fill: #5c6670; text-transform: uppercase; letter-spacing: .05em; }
    .label.root { font-weight: 700; } .tick { fill: #5c6670; font-size: 10px; }
    .grid { stroke: #e3e7eb; stroke-width: 1; }
    .start { stroke: #1d2329; stroke-width: 1; } .start-label { font-size: 10px; fill: #1d2329; }
    .recovered { stroke: ${STATUS_COLOUR.ok}; stroke-width: 1.5; } .recovered-label { font-size: 10px; fill: ${STATUS_COLOUR.ok}; font-weight: 700; }
    .rootline { stroke: #1d2329; stroke-width: 1.5; stroke-dasharray: 5 3; } .rootline-label { font-size: 10px; font-weight: 700; }
    .flag { font-size: 10px; font-weight: 700; fill: ${SEVERITY_COLOUR.critical}; }
  </style>`;
  const defs = `<defs><pattern id="nodata" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff"/><line x1="0" y1="0" x2="0" y2="6" stroke="#e1e4e8" stroke-width="2"/></pattern></defs>`;
  const grid = marks.filter((m) => m.includes('class="grid"'));
  const over = marks.filter((m) => !m.includes('class="grid"'));
  return `<svg xmlns="http://www.w3.org/2000/svg" class="timeline" viewBox="0 0 ${W} ${height}" width="${W}" height="${height}" role="img" aria-label="${esc(`Timeline of incident ${inc.id}: one lane per probe and host, coloured by status; one bar per finding`)}">` +
    `${style}${defs}${grid.join('')}${rows.join('')}${over.join('')}</svg>`;
}

/** A finding's stretches as bars; stretches less than a pixel apart (a flapping finding) are drawn as one. */
function bars(f: FindingTimeline, x: (iso: string) => number, windowEnd: string): Array<{ x0: number; x1: number; from: string; to: string; clearedAt?: string; spans: number }> {
  const out: Array<{ x0: number; x1: number; from: string; to: string; clearedAt?: string; spans: number }> = [];
  for (const s of f.spans) {
    const x0 = x(s.from);
    const x1 = x(s.clearedAt ?? windowEnd);
    const prev = out[out.length - 1];
    if (prev && x0 - prev.x1 < 1) {
      Object.assign(prev, { x1, to: s.to, clearedAt: s.clearedAt, spans: prev.spans + 1 });
    } else {
      out.push({ x0, x1, from: s.from, to: s.to, clearedAt: s.clearedAt, spans: 1 });
    }
  }
  return out;
}

function truncate(text: string, n: number): string {
  return text.length <= n ? text : `${text.slice(0, n - 1)}…`;
}

/** Lanes with more segments than pixels are drawn one pixel column at a time, worst status first. */
function binned(segments: Lane['segments'], from: number, to: number): Lane['segments'] {
  if (segments.length <= PLOT_W) return segments;
  const bins: LaneStatus[] = Array.from({ length: PLOT_W }, () => 'none');
  const col = (t: number) => Math.min(PLOT_W - 1, Math.max(0, Math.floor(((t - from) / (to - from)) * PLOT_W)));
  for (const s of segments) {
    const a = col(Date.parse(s.from));
    const b = col(Date.parse(s.to) - 1);
    for (let i = a; i <= b; i++) bins[i] = worseLaneStatus(bins[i], s.status);
  }
  const at = (i: number) => new Date(from + ((to - from) * i) / PLOT_W).toISOString();
  const out: Lane['segments'] = [];
  bins.forEach((status, i) => {
    const prev = out[out.length - 1];
    if (prev && prev.status === status) prev.to = at(i + 1);
    else out.push({ from: at(i), to: at(i + 1), status });
  });
  return out;
}

// ------------------------------------------------------------------ the list

export function renderIncidentListHtml(doc: IncidentListDocument): string {
  const h = doc.history;
  const span = h.firstRunAt && h.lastRunAt ? ` from ${esc(humanTime(h.firstRunAt))} to ${esc(humanTime(h.lastRunAt))}` : '';
  const rows = doc.incidents.map((i) =>
    `<tr><td class="num">${i.id}</td><td class="time">${esc(humanTime(i.startedAt))}</td><td>${i.ongoing ? `ongoing (${formatDuration(i.durationMs)} so far)` : formatDuration(i.durationMs)}</td>` +
      `<td class="num">${i.badRuns}</td><td><span class="badge ${i.status}">${i.status}</span></td><td>${esc(i.title)}${i.roots.length > 1 ? ` <span class="note">(+${i.roots.length - 1} more)</span>` : ''}</td></tr>`,
  );
  const body = `<h1>Incidents: ${doc.incidents.length}</h1><p class="meta">In the run history <code>${esc(h.path)}</code>: ${h.runs} runs${span}.</p>` +
    (doc.incidents.length === 0
      ? '<p>No run was judged critical or warning: nothing to report.</p>'
      : `<table><thead><tr><th>Incident</th><th>Started</th><th>Lasted</th><th>Bad runs</th><th>Status</th><th>Root cause</th></tr></thead><tbody>${rows.join('')}</tbody></table>` +
        '<p class="note">A report on one: <code>netdoctor report --incident ID --format html -o report.html</code></p>') +
    `<footer>Written by netdoctor ${esc(doc.netdoctor)} at ${esc(humanTime(doc.generatedAt))}.</footer>`;
  return page(`netdoctor incidents: ${doc.incidents.length}`, body);
}
