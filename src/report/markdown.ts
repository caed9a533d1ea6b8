/**
 * Post-incident reports as Markdown: for pasting into notes, a wiki or an
 * issue tracker. Plain CommonMark (tables as GitHub writes them), no HTML,
 * so it also reads as plain text. Everything shown comes from the incident
 * model (incident.ts); this file only words and lays it out.
 */
import type { Fix, Severity } from '../diagnose/types.js';
import { formatDuration } from '../shared/duration.js';
import { plural } from '../shared/text.js';
import { humanTime } from '../shared/time.js';
import {
  type FindingTimeline,
  type IncidentListDocument,
  type IncidentReport,
  type IncidentSummary,
  type ReportDocument,
  type TimelineEvent,
} from './incident.js';

const MARK: Record<Severity, string> = { critical: '✖', warning: '!', unknown: '?', info: 'i' };
/** Timelines longer than this show their first and last events, and say how many were left out. */
export const MAX_TIMELINE_ROWS = 80;
const MAX_EVIDENCE = 8;

/** Inline text: characters Markdown would read as formatting are escaped. */
export function md(text: string): string {
  return text.replace(/[\\`*_[\]<>|#]/g, (c) => `\\${c}`);
}

/** A table cell: escaped, on one line. */
function cell(text: string): string {
  return md(text).replace(/\s*\n\s*/g, ' ');
}

/** A code span that survives backticks inside it. */
function code(text: string): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${/^`|`$/.test(text) ? ` ${text} ` : text}${fence}`;
}

export function offset(ms: number): string {
  if (Math.abs(ms) < 500) return '0';
  return `${ms < 0 ? '−' : '+'}${formatDuration(Math.abs(ms))}`;
}

/** Clock time alone when the whole window is one UTC day, date and time otherwise. */
function clock(report: IncidentReport): (iso: string) => string {
  const oneDay = report.window.from.slice(0, 10) === report.window.to.slice(0, 10);
  return (iso: string) => (oneDay ? iso.slice(11, 19) : `${iso.slice(5, 10)} ${iso.slice(11, 19)}`);
}

export function renderMarkdown(doc: ReportDocument): string {
  const out: string[] = [];
  if (doc.incidents.length === 0) {
    out.push(`# No incidents`, '', noIncidentsSentence(doc.history, doc.selection), '');
  }
  doc.incidents.forEach((r, i) => {
    if (i > 0) out.push('', '---', '');
    out.push(...incidentMarkdown(r));
  });
  out.push('', `_Written by netdoctor ${doc.netdoctor} at ${humanTime(doc.generatedAt)} from the run history ${md(doc.history.path)}._`);
  return `${out.join('\n')}\n`;
}

export function noIncidentsSentence(history: ReportDocument['history'], selection: string): string {
  const span = history.firstRunAt && history.lastRunAt ? ` from ${humanTime(history.firstRunAt)} to ${humanTime(history.lastRunAt)}` : '';
  const runs = `${plural(history.runs, 'run')}${span}`;
  return selection === 'the last incident'
    ? `No incidents: the history holds ${runs}, and none of them was judged critical or warning.`
    : `No incidents in ${selection}: the history holds ${runs}, and none of those in ${selection} was judged critical or warning.`;
}

function incidentMarkdown(r: IncidentReport): string[] {
  const inc = r.incident;
  const t = clock(r);
  const roots = r.findings.filter((f) => f.role === 'root');
  const symptoms = r.findings.filter((f) => f.role === 'symptom');
  const out: string[] = [];

  out.push(`# Incident ${inc.id}: ${md(inc.title)}`);
  out.push('');
  out.push(
    `**${inc.status.toUpperCase()}** · site ${md(r.site || '(unnamed)')} · ${r.vantages.join(', ') || 'inside'} · ` +
      `${humanTime(inc.startedAt)} · ${inc.ongoing ? `ongoing for ${formatDuration(inc.durationMs)}` : `${formatDuration(inc.durationMs)} to recovery`}`,
  );

  // summary
  out.push('', '## Summary', '');
  const what = roots.length > 0
    ? roots.map((f) => `${md(f.title)} (${f.severity}${roots.length > 1 ? ', root cause' : ''})`).join('; ')
    : md(inc.title);
  const followed = symptoms.length > 0 ? ` ${plural(symptoms.length, 'more finding')} followed from ${roots.length === 1 ? 'it' : 'them'}.` : '';
  out.push(`- **What broke:** ${what}.${followed}`);
  const began = inc.previousRunAt
    ? `began between ${humanTime(inc.previousRunAt)} (the last run before, which did not see it) and ${humanTime(inc.startedAt)} (the first run that did)`
    : `was already there at the first run in the history, ${humanTime(inc.startedAt)}`;
  const ended = inc.recoveredAt
    ? `last seen ${humanTime(inc.lastSeenAt)}; recovered by ${humanTime(inc.recoveredAt)} (the first healthy run)`
    : `still there at the last run, ${humanTime(inc.lastSeenAt)}`;
  out.push(`- **When:** it ${began}; ${ended}.`);
  const bad = r.runCounts.critical + r.runCounts.warning;
  const total = bad + r.runCounts.ok + r.runCounts.unknown;
  out.push(
    `- **How long:** ${inc.ongoing ? `${formatDuration(inc.durationMs)} so far` : `${formatDuration(inc.durationMs)} to recovery`}; ` +
      `${bad} of the ${total} runs around it saw problems${r.runCounts.unknown ? `, ${r.runCounts.unknown} could not judge` : ''}. ` +
      `Runs came every ${formatDuration(r.runIntervalMs)} or so: every time here is good to within that.`,
  );
  const impact = roots[0]?.impact ?? r.findings[0]?.impact;
  if (impact) out.push(`- **Impact:** ${md(impact)}`);

  // timeline
  out.push('', '## Timeline', '', 'Times are UTC; offsets count from the first run that saw a problem.', '');
  out.push('| Time | Offset | Event |', '|---|---|---|');
  for (const e of trimmed(r.timeline)) {
    if (e === undefined) {
      out.push(`| … | … | ${r.timeline.length - MAX_TIMELINE_ROWS} more events (all of them: --format json) |`);
      continue;
    }
    out.push(`| ${t(e.at)} | ${offset(e.offsetMs)} | ${eventCell(e)} |`);
  }
  out.push('', '### Each finding', '');
  out.push('| Finding | Role | First seen | Last seen | Cleared | Runs | After its root cause |', '|---|---|---|---|---|---|---|');
  for (const f of r.findings) {
    const flap = f.spans.length > 1 ? ` (in ${f.spans.length} stretches)` : '';
    const after = f.role === 'symptom' && f.sinceRootMs !== undefined ? offset(f.sinceRootMs) : f.role === 'root' ? '—' : '';
    const outlasted = f.outlastedRootMs !== undefined ? `; outlasted it by ${formatDuration(f.outlastedRootMs)}` : '';
    out.push(
      `| ${MARK[f.severity]} ${cell(f.title)} | ${roleWord(f)} | ${t(f.firstSeenAt)} | ${t(f.lastSeenAt)} | ${f.clearedAt ? t(f.clearedAt) : '**not cleared**'} | ${f.runs}${flap} | ${after}${outlasted} |`,
    );
  }
  if (r.lanesNote) out.push('', `_${md(r.lanesNote)}_`);

  // root causes
  out.push('', `## Root cause${roots.length === 1 ? '' : 's'} and how netdoctor knows`);
  if (roots.length === 0) out.push('', 'netdoctor found no root cause: every bad finding was, at some point, explained by another. See the open questions.');
  for (const f of roots) {
    out.push('', `### ${MARK[f.severity]} ${md(f.title)}`, '', md(f.explanation), '');
    const span = f.firstSeenAt === f.lastSeenAt ? `once, at ${humanTime(f.firstSeenAt)}` : `in ${plural(f.runs, 'run')} from ${humanTime(f.firstSeenAt)} to ${humanTime(f.lastSeenAt)}`;
    const leads = symptoms.filter((s) => s.rootKeys.includes(f.key));
    out.push(
      `**How netdoctor knows:** it was seen ${span}, and no other finding explained it in any of them` +
        `${leads.length ? `; ${plural(leads.length, 'finding')} followed from it` : ''}. ` +
        `The observations it rests on, as run ${f.evidenceRunId} recorded them at ${humanTime(f.firstSeenAt)}:`,
    );
    out.push('');
    for (const e of f.evidence.slice(0, MAX_EVIDENCE)) out.push(`- ${code(e.id)} — **${e.status}** (${md(e.reason)}): ${md(e.summary)}`);
    if (f.evidence.length > MAX_EVIDENCE) out.push(`- … and ${f.evidence.length - MAX_EVIDENCE} more (--format json lists them all)`);
    if (f.evidence.length === 0) out.push('- (this finding cites no observation)');
  }

  // what followed
  out.push('', '## What followed', '');
  if (symptoms.length === 0) out.push('Nothing: no other finding followed from the root cause.');
  symptoms.forEach((f, i) => {
    const causes = f.causes.map((k) => r.findings.find((x) => x.key === k)?.title ?? k);
    const when = f.sinceRootMs === undefined ? '' : f.sinceRootMs === 0 ? 'seen in the same run as its root cause' : f.sinceRootMs > 0 ? `seen ${formatDuration(f.sinceRootMs)} after its root cause` : `seen ${formatDuration(-f.sinceRootMs)} **before** its root cause`;
    const parts = [when, causes.length ? `explained by: ${causes.map(md).join('; ')}` : '', f.clearedAt ? `cleared ${humanTime(f.clearedAt)}` : '**not cleared** at the last run'].filter(Boolean);
    out.push(`${i + 1}. ${MARK[f.severity]} **${md(f.title)}** — ${parts.join('; ')}.`);
    if (f.outlastedRootMs !== undefined) out.push(`   **Outlasted its root cause by ${formatDuration(f.outlastedRootMs)}**: still seen after the root cause had cleared.`);
    if (f.spans.length > 1) out.push(`   It came and went: seen in ${f.spans.length} separate stretches.`);
    out.push(`   _Impact:_ ${md(f.impact)}`);
  });

  // fixes
  out.push('', '## Fixes', '');
  if (r.fixes.length === 0) out.push('netdoctor has no fix to offer for this incident.');
  for (const fx of r.fixes) {
    const state = fx.clearedAt
      ? `cleared at ${humanTime(fx.clearedAt)}: a fix was applied, or it went away by itself`
      : '**still there at the last run: not fixed yet**';
    out.push(`### ${MARK[fx.severity]} ${md(fx.title)}`, '', `_${state}._`, '');
    fx.fixes.forEach((fix, i) => out.push(...fixMarkdown(fix, fx.fixes.length > 1 ? i + 1 : undefined)));
  }

  // open questions
  out.push('', '## Open questions', '');
  if (r.openQuestions.length === 0) out.push('None: every finding was explained by a root cause, and no symptom outlasted its root cause.');
  for (const q of r.openQuestions) out.push(`- ${md(q.text)}`);
  return out;
}

function roleWord(f: FindingTimeline): string {
  return f.role === 'root' ? '**root cause**' : f.role === 'symptom' ? 'symptom' : 'could not judge';
}

function eventCell(e: TimelineEvent): string {
  const text = cell(e.text);
  switch (e.kind) {
    case 'appeared':
    case 'reappeared':
      return e.role === 'root' ? `${MARK[e.severity ?? 'critical']} **${text}**` : `${MARK[e.severity ?? 'critical']} ${text}`;
    case 'recovered':
      return `✔ **${text}**`;
    case 'still-bad':
      return `**${text}**`;
    case 'status':
      return `_${text}_`;
    default:
      return text;
  }
}

/** At most MAX_TIMELINE_ROWS events: the first and last halves, `undefined` where the middle was left out. */
export function trimmed(events: readonly TimelineEvent[]): Array<TimelineEvent | undefined> {
  if (events.length <= MAX_TIMELINE_ROWS) return [...events];
  const half = MAX_TIMELINE_ROWS / 2;
  return [...events.slice(0, half), undefined, ...events.slice(events.length - half)];
}

function fixMarkdown(fix: Fix, n: number | undefined): string[] {
  const out = [`**${n !== undefined ? `${n}. ` : ''}${md(fix.title)}**`, ''];
  fix.steps.forEach((s, i) => out.push(`${i + 1}. ${md(s)}`));
  if (fix.snippet) {
    const longest = Math.max(2, ...[...fix.snippet.text.matchAll(/`+/g)].map((m) => m[0].length));
    const fence = '`'.repeat(longest + 1);
    out.push('', `${code(fix.snippet.file)}:`, '', `${fence}${fix.snippet.language ?? ''}`, fix.snippet.text.replace(/\n$/, ''), fence);
  }
  out.push('');
  return out;
}

export function renderIncidentListMarkdown(doc: IncidentListDocument): string {
  const out: string[] = [];
  const h = doc.history;
  const span = h.firstRunAt && h.lastRunAt ? ` from ${humanTime(h.firstRunAt)} to ${humanTime(h.lastRunAt)}` : '';
  out.push(`# Incidents: ${doc.incidents.length}`, '', `In the run history ${md(h.path)}: ${plural(h.runs, 'run')}${span}.`, '');
  if (doc.incidents.length === 0) {
    out.push('No run was judged critical or warning: nothing to report.');
    return `${out.join('\n')}\n`;
  }
  out.push('| Incident | Started (UTC) | Lasted | Bad runs | Status | Root cause |', '|---|---|---|---|---|---|');
  for (const i of doc.incidents) out.push(listRow(i));
  out.push('', 'A report on one: `netdoctor report --incident ID` (add `--format html -o report.html` for the timeline chart).');
  return `${out.join('\n')}\n`;
}

function listRow(i: IncidentSummary): string {
  const lasted = i.ongoing ? `ongoing (${formatDuration(i.durationMs)} so far)` : formatDuration(i.durationMs);
  const more = i.roots.length > 1 ? ` (+${i.roots.length - 1} more root cause${i.roots.length > 2 ? 's' : ''})` : '';
  return `| ${i.id} | ${humanTime(i.startedAt).replace(' UTC', '')} | ${lasted} | ${i.badRuns} | ${i.status} | ${cell(i.title)}${more} |`;
}
