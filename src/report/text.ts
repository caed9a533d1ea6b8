/**
 * The human rendering of a diagnosis, for `netdoctor check` and
 * `netdoctor diagnose`: a status line, then root causes first — each with its
 * title, explanation, impact and first fix — with the symptoms it explains
 * folded beneath it; then what could not be judged; with `verbose`, every fix
 * and every observation. Wrapped for 80 columns; snippets are never wrapped,
 * so they paste as they are. No colour unless asked.
 */
import type { Finding, Fix, Severity } from '../diagnose/types.js';
import type { Observation } from '../probes/types.js';
import { formatDuration } from '../shared/duration.js';
import type { RunStatus } from '../shared/exit-codes.js';
import { plural } from '../shared/text.js';
import { humanTime } from '../shared/time.js';
import type { CheckReport } from './json.js';
import { perfdata } from './perfdata.js';

export interface TextOptions {
  verbose?: boolean;
  color?: boolean;
  /** Wrap width; 80 by default. */
  width?: number;
  /** End the status line with Nagios performance data (` | duration=4.2s;;;0 …`), for `check`. */
  perfdata?: boolean;
}

const MARK: Record<Severity, string> = { critical: '✖', warning: '!', unknown: '?', info: 'i' };

const ANSI = {
  bold: ['\u001b[1m', '\u001b[22m'],
  dim: ['\u001b[2m', '\u001b[22m'],
  red: ['\u001b[31m', '\u001b[39m'],
  yellow: ['\u001b[33m', '\u001b[39m'],
  magenta: ['\u001b[35m', '\u001b[39m'],
  green: ['\u001b[32m', '\u001b[39m'],
  cyan: ['\u001b[36m', '\u001b[39m'],
} as const;
type Style = keyof typeof ANSI;

const SEVERITY_STYLE: Record<Severity, Style> = { critical: 'red', warning: 'yellow', unknown: 'magenta', info: 'cyan' };
const STATUS_STYLE: Record<RunStatus, Style> = { critical: 'red', warning: 'yellow', unknown: 'magenta', ok: 'green' };

/** Greedy word wrap; `first` prefixes the first line, `rest` the others. Words longer than a line stay whole. */
export function wrap(text: string, width: number, first = '', rest = first): string[] {
  const words = text.split(/\s+/).filter(Boolean);
  const lines: string[] = [];
  let line = first;
  let empty = true;
  for (const w of words) {
    if (!empty && line.length + 1 + w.length > width) {
      lines.push(line);
      line = rest + w;
    } else {
      line += (empty ? '' : ' ') + w;
    }
    empty = false;
  }
  lines.push(line);
  return lines;
}

export function renderText(report: CheckReport, opts: TextOptions = {}): string {
  const width = Math.max(40, opts.width ?? 80);
  const paint = (style: Style, s: string) => (opts.color ? `${ANSI[style][0]}${s}${ANSI[style][1]}` : s);
  const out: string[] = [];
  const byKey = new Map(report.findings.map((f) => [f.key, f]));

  const roots = report.findings.filter((f) => f.root);
  const causes = roots.filter((f) => f.severity !== 'unknown' && !f.outOfScope);
  const unknowns = roots.filter((f) => f.severity === 'unknown' && !f.outOfScope);
  const outOfScope = roots.filter((f) => f.outOfScope);
  const explained = report.findings.filter((f) => !f.root);

  // The status line first: Nagios and Icinga show a plugin's first line as the service's status.
  const when = humanTime(report.startedAt);
  const perf = opts.perfdata ? ` | ${perfdata(report)}` : '';
  out.push(paint('bold', paint(STATUS_STYLE[report.status], statusLine(report.status, causes.length, explained.length, unknowns.length))) + perf);
  out.push(paint('dim', `netdoctor ${report.netdoctor} · ${report.site} · ${report.vantage} · ${when} · ${formatDuration(report.durationMs)}`));

  // root causes, each with its chain beneath it
  for (const f of causes) {
    out.push('');
    out.push(...titleLines(f, width, paint));
    out.push(...wrap(f.explanation, width, '  '));
    out.push('');
    out.push(...wrap(`Impact: ${f.impact}`, width, '  ', '    '));
    renderFixes(out, f, width, opts.verbose === true, paint);
    renderChain(out, f, byKey, width, paint, opts.verbose === true);
  }

  if (unknowns.length > 0) {
    out.push('');
    out.push(paint('bold', 'Could not judge:'));
    for (const f of unknowns) {
      out.push(...titleLines(f, width, paint));
      out.push(...wrap(f.explanation, width, '  '));
      renderFixes(out, f, width, opts.verbose === true, paint);
      renderChain(out, f, byKey, width, paint, opts.verbose === true);
    }
  }

  if (outOfScope.length > 0) {
    out.push('');
    out.push(paint('dim', 'Not checked in this run (does not change the status):'));
    for (const f of outOfScope) out.push(...wrap(f.title, width, `  ${MARK.unknown} `, '      ').map((l) => paint('dim', l)));
  }

  if (opts.verbose) {
    out.push('');
    out.push(paint('bold', `Observations (${report.observations.length}):`));
    for (const o of report.observations) out.push(...observationLines(o, width, paint));
  } else if (report.findings.length > 0) {
    out.push('');
    out.push(paint('dim', 'Every fix and every observation: --verbose; the whole report as JSON: --json.'));
  }
  return `${out.join('\n')}\n`;
}

/** The title, wrapped with its severity mark in front (wrapped before painting, so escapes never count as width). */
function titleLines(f: Finding, width: number, paint: (s: Style, t: string) => string): string[] {
  const lines = wrap(f.title, width, `${MARK[f.severity]} `, '  ');
  return lines.map((l, i) => (i === 0 ? `${paint(SEVERITY_STYLE[f.severity], MARK[f.severity])} ${paint('bold', l.slice(2))}` : paint('bold', l)));
}

function statusLine(status: RunStatus, roots: number, explained: number, unknown: number): string {
  const causes = plural(roots, 'root cause');
  const follow = explained > 0 ? `; ${plural(explained, 'more finding')} follow${explained === 1 ? 's' : ''} from ${roots === 1 ? 'it' : 'them'}` : '';
  const open = unknown > 0 ? `; ${plural(unknown, 'thing')} could not be judged` : '';
  switch (status) {
    case 'ok':
      return 'OK: nothing wrong found';
    case 'unknown':
      return roots > 0 ? `UNKNOWN: ${causes}${follow}${open}` : `UNKNOWN: nothing wrong found, but ${plural(unknown, 'thing')} could not be judged`;
    default:
      return `${status.toUpperCase()}: ${causes}${follow}${open}`;
  }
}

function renderFixes(out: string[], f: Finding, width: number, all: boolean, paint: (s: Style, t: string) => string, indent = '  '): void {
  const fixes = all ? f.fixes : f.fixes.slice(0, 1);
  fixes.forEach((fix, i) => {
    out.push('');
    const label = all && f.fixes.length > 1 ? `Fix ${i + 1} of ${f.fixes.length}: ` : 'Fix: ';
    out.push(...wrap(`${label}${fix.title}`, width, indent, `${indent}  `).map((l) => paint('bold', l)));
    renderFix(out, fix, width, indent);
  });
  if (!all && f.fixes.length > 1) {
    out.push('');
    out.push(paint('dim', `${indent}More fixes (--verbose shows their steps):`));
    for (const x of f.fixes.slice(1)) out.push(...wrap(x.title, width, `${indent}  + `, `${indent}    `).map((l) => paint('dim', l)));
  }
}

function renderFix(out: string[], fix: Fix, width: number, indent: string): void {
  fix.steps.forEach((step, i) => {
    const n = `${i + 1}. `;
    out.push(...wrap(step, width, `${indent}  ${n}`, `${indent}  ${' '.repeat(n.length)}`));
  });
  if (fix.snippet) {
    out.push(`${indent}  ┌─ ${fix.snippet.file}`);
    for (const line of fix.snippet.text.split('\n')) out.push(`${indent}  │ ${line}`);
    out.push(`${indent}  └─`);
  }
}

/** The symptoms a root explains, depth first, each once, indented by depth: "↳ …". */
function renderChain(out: string[], root: Finding, byKey: Map<string, Finding>, width: number, paint: (s: Style, t: string) => string, verbose: boolean): void {
  if (root.explains.length === 0) return;
  out.push('');
  out.push(paint('dim', '  Explained by this (symptoms, not separate causes):'));
  const seen = new Set<string>([root.key]);
  const order = [...byKey.keys()];
  const walk = (f: Finding, depth: number) => {
    const children = f.explains.filter((k) => !seen.has(k) && byKey.has(k)).sort((a, b) => order.indexOf(a) - order.indexOf(b));
    for (const k of children) {
      if (seen.has(k)) continue;
      seen.add(k);
      const child = byKey.get(k)!;
      const pad = '  '.repeat(depth);
      const lines = wrap(child.title, width, `${pad}↳ `, `${pad}  `);
      lines[0] = lines[0].replace('↳', paint(SEVERITY_STYLE[child.severity], '↳'));
      out.push(...lines);
      if (verbose) out.push(...wrap(child.explanation, width, `${pad}  `).map((l) => paint('dim', l)));
      walk(child, depth + 1);
    }
  };
  walk(root, 1);
}

const STATUS_WORD: Record<Observation['status'], string> = { ok: 'ok', fail: 'FAIL', error: 'error', skipped: 'skip' };

function observationLines(o: Observation, width: number, paint: (s: Style, t: string) => string): string[] {
  const status = STATUS_WORD[o.status].padEnd(5);
  const head = `  ${status} ${o.probe.padEnd(5)} ${o.subject}`;
  const styled = o.status === 'fail' ? 'red' : o.status === 'error' ? 'magenta' : o.status === 'skipped' ? 'dim' : 'green';
  const lines = wrap(o.summary, width, '          ', '          ');
  return [paint(styled as Style, head), ...lines];
}
