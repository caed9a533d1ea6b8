/**
 * State → screen: every line the UI draws, wrapped to the terminal's width
 * and cut to its height. Pure, so what a person reads at 100 or 60 columns is
 * tested without a terminal; the components only paint these lines.
 *
 * The screen, top to bottom: a header (site, interface, last run, status), a
 * row per probe (main view only), one pane (findings list, a finding's
 * detail, a fix as plain text, help, or the first-run screen) and a footer
 * with the keys that work here. It never takes the terminal's last row: ink
 * repaints the whole terminal once its output is as tall as the window.
 */
import type { Finding, Fix, Severity } from '../../diagnose/types.js';
import type { Observation, ProbeName, Vantage } from '../../probes/types.js';
import { formatDuration } from '../../shared/duration.js';
import type { RunStatus } from '../../shared/exit-codes.js';
import { plural } from '../../shared/text.js';
import { PROBE_LABEL, probeFigures } from './figures.js';
import { clock, flowItems, lineWidth, seg, wrapSegs, type Line, type Seg, type Tone } from './lines.js';
import { findingItems, formatEvery, selectedFinding, type FindingItem, type ProbeRow, type TuiState, type Viewport } from './state.js';

export interface Size {
  columns: number;
  rows: number;
}

export interface HeaderInfo {
  site: string;
  iface?: string;
  vantage: Vantage;
  /** What is being shown when it is not this network live, e.g. `demo: unplugged-pi (recorded 2026-11-25)`. */
  label?: string;
}

/** What the first-run screen reports: read from the machine, never probed. */
export interface FirstRunFacts {
  iface?: string;
  /** `192.168.1.50/24` */
  address?: string;
  gateway?: string;
  resolvers: string[];
  /** Where a config was looked for. */
  searched: string[];
}

export interface ProbeRowView {
  name: ProbeName;
  label: string;
  /** Draw a spinner instead of `mark`. */
  spinning: boolean;
  mark: Seg;
  /** The figures, wrapped to the width left after the mark and label columns. */
  lines: Line[];
}

export interface Screen {
  width: number;
  header: Line[];
  /** Main view only. */
  rows?: ProbeRowView[];
  body: Line[];
  footer: Line[];
  viewport: Viewport;
}

/** Mark and label columns of a probe row: `✔ Internet ` */
export const ROW_LABEL_WIDTH = 9;
const ROW_PREFIX = 2 + ROW_LABEL_WIDTH;
const MIN_WIDTH = 30;
const MIN_PANE = 3;

export const SEVERITY_MARK: Record<Severity, string> = { critical: '✖', warning: '!', unknown: '?', info: 'i' };
const SEVERITY_TONE: Record<Severity, Tone> = { critical: 'critical', warning: 'warning', unknown: 'unknown', info: 'info' };
const STATUS_WORD: Record<RunStatus, { mark: string; word: string; tone: Tone }> = {
  ok: { mark: '✔', word: 'OK', tone: 'ok' },
  warning: { mark: '!', word: 'WARNING', tone: 'warning' },
  critical: { mark: '✖', word: 'CRITICAL', tone: 'critical' },
  unknown: { mark: '?', word: 'UNKNOWN', tone: 'unknown' },
};
const OBS_MARK: Record<Observation['status'], Seg> = {
  ok: seg('✔', 'ok'),
  fail: seg('✖', 'critical'),
  error: seg('?', 'unknown'),
  skipped: seg('–', 'muted'),
};

const BLANK: Line = [];
const SEP = seg(' · ', 'muted');

export function layoutScreen(state: TuiState, info: HeaderInfo, size: Size, firstRun?: FirstRunFacts): Screen {
  const width = Math.max(MIN_WIDTH, Math.floor(size.columns));
  const height = Math.max(8, Math.floor(size.rows));
  const header = headerLines(state, info, width);

  const built = bodyFor(state, width, firstRun);
  // Scrolling views show their position in the footer: budget for the longest it can be.
  const n = built.lines.length;
  const footer = footerLines(state, width, state.view === 'main' || state.view === 'first-run' ? undefined : `${n}–${n} of ${n}`);
  // ink needs the terminal's last row free; one blank line separates the header from what follows.
  const budget = height - 1 - header.length - 1 - footer.length;

  if (state.view === 'main') {
    let rows = state.rows.map((r) => probeRowView(r, width));
    let rowsHeight = rows.reduce((n, r) => n + r.lines.length, 0) + 1;
    if (budget - rowsHeight < MIN_PANE + 2) {
      // A short terminal: one line per probe, so the findings keep their room.
      rows = rows.map((r) => ({ ...r, lines: [truncateLine(r.lines, width - ROW_PREFIX)] }));
      rowsHeight = rows.length + 1;
    }
    const paneHeight = Math.max(MIN_PANE, budget - rowsHeight);
    return { width, header, rows, body: fill(windowAround(built.lines, built.selected, paneHeight), paneHeight), footer, viewport: { page: paneHeight, maxScroll: 0 } };
  }

  const paneHeight = Math.max(MIN_PANE, budget);
  const maxScroll = Math.max(0, built.lines.length - paneHeight);
  const scroll = Math.min(state.scroll, maxScroll);
  const body = fill(built.lines.slice(scroll, scroll + paneHeight).map((l) => l.line), paneHeight);
  // The footer says where in the text the window is; recompute it now that the window is known.
  const position = built.lines.length > paneHeight ? `${scroll + 1}–${Math.min(built.lines.length, scroll + paneHeight)} of ${built.lines.length}` : undefined;
  return { width, header, body, footer: footerLines(state, width, position), viewport: { page: paneHeight, maxScroll } };
}

/** Pads the pane to its height, so the keys stay on the same row whatever is shown. */
function fill(lines: Line[], height: number): Line[] {
  return lines.length >= height ? lines : [...lines, ...Array.from({ length: height - lines.length }, () => BLANK)];
}

// ------------------------------------------------------------------ header

function headerLines(state: TuiState, info: HeaderInfo, width: number): Line[] {
  const first: Line[] = [
    [seg('netdoctor', 'accent', { bold: true })],
    [seg(info.site)],
    [seg(info.iface ?? 'no interface', info.iface ? undefined : 'warning')],
    [seg(info.vantage)],
  ];
  if (info.label) first.push([seg(info.label, 'accent')]);

  const second: Line[] = [];
  const shown = state.shown;
  if (state.view === 'first-run') {
    second.push([seg('first run: no netdoctor.yaml found', 'accent')]);
  } else {
    if (state.phase === 'running') {
      const total = state.rows.length;
      const done = state.rows.filter((r) => r.phase === 'done').length;
      second.push([seg(`checking… ${done}/${total} probes done`, 'accent', { bold: true })]);
    }
    if (state.phase === 'failed') second.push([seg('✖ the run failed', 'critical', { bold: true })]);
    if (shown) {
      const s = STATUS_WORD[shown.status];
      const stale = state.phase !== 'done';
      second.push([seg(`${s.mark} ${s.word}`, s.tone, { bold: !stale })]);
      second.push([seg(`${stale ? 'previous run' : 'last run'} ${clock(Date.parse(shown.startedAt))}, took ${formatDuration(shown.durationMs)}`, stale ? 'muted' : undefined)]);
    }
    if (state.auto) {
      const next = shown && state.phase === 'done' ? `, next ${clock(shown.finishedAt + state.refreshMs)}` : '';
      second.push([seg(`auto-refresh every ${formatEvery(state.refreshMs)}${next}`, 'accent')]);
    } else if (shown) {
      second.push([seg('auto-refresh off', 'muted')]);
    }
  }
  return [...flowItems(first, width, SEP), ...(second.length ? flowItems(second, width, SEP) : [])];
}

// ------------------------------------------------------------------ probe rows

export function probeRowView(row: ProbeRow, width: number): ProbeRowView {
  const room = Math.max(10, width - ROW_PREFIX);
  const label = PROBE_LABEL[row.name] ?? row.name;
  const { tone, figures } = probeFigures(row.name, row.observations);
  // Each figure in its own tone (plain when fine); the mark carries the row's worst.
  let items: Line[] = figures.map((f) => f.line.map((s) => ({ ...s, tone: s.tone ?? toneForFigure(f.tone) })));
  let mark: Seg;
  if (row.phase === 'waiting') {
    mark = seg('·', 'muted');
    items = [[seg('waiting', 'muted')]];
  } else if (row.phase === 'running') {
    mark = seg('·', 'accent');
    if (items.length === 0) items = [[seg('checking…', 'muted')]];
  } else if (row.outcome === 'skipped' && figures.every((f) => f.tone === 'muted')) {
    mark = seg('–', 'muted');
  } else {
    mark = markFor(tone);
    if (items.length === 0) items = [[seg('nothing to report', 'muted')]];
  }
  return { name: row.name, label, spinning: row.phase === 'running', mark, lines: flowItems(items, room, SEP) };
}

function toneForFigure(t: Tone): Tone | undefined {
  return t === 'ok' ? undefined : t;
}

function markFor(tone: Tone): Seg {
  switch (tone) {
    case 'critical': return seg('✖', 'critical');
    case 'warning': return seg('!', 'warning');
    case 'unknown': return seg('?', 'unknown');
    case 'ok': return seg('✔', 'ok');
    default: return seg('–', 'muted');
  }
}

/** The first line of a wrapped row, ending in `…` (at a word boundary) when more was cut. */
function truncateLine(lines: Line[], width: number): Line {
  if (lines.length <= 1) return lines[0] ?? [];
  const words: Seg[] = [...lines[0]];
  while (words.length > 0 && lineWidth(words) + 2 > width) words.pop();
  return [...words, seg(' …', 'muted')];
}

// ------------------------------------------------------------------ panes

interface PaneLine {
  line: Line;
  /** The findings-list item this line belongs to. */
  item?: number;
}

interface Built {
  lines: PaneLine[];
  /** Main view: the selected item. */
  selected?: number;
}

function bodyFor(state: TuiState, width: number, firstRun?: FirstRunFacts): Built {
  switch (state.view) {
    case 'first-run':
      return { lines: plain(firstRunLines(firstRun, width)) };
    case 'main':
      return mainPane(state, width);
    case 'detail': {
      const finding = selectedFinding(state);
      return { lines: plain(finding && state.shown ? detailLines(finding, state.shown.observations, state.shown.findings, width) : [[seg('No finding selected.', 'muted')]]) };
    }
    case 'copy': {
      const finding = selectedFinding(state);
      const fix = finding?.fixes[state.fixIndex];
      return { lines: plain(finding && fix ? copyLines(finding, fix, state.fixIndex, width) : [[seg('No fix to show.', 'muted')]]) };
    }
    case 'help':
      return { lines: plain(helpLines(state, width)) };
  }
}

const plain = (lines: Line[]): PaneLine[] => lines.map((line) => ({ line }));

function mainPane(state: TuiState, width: number): Built {
  const shown = state.shown;
  const out: PaneLine[] = [];
  const text = (segs: Seg[], first: Line = [], rest: Line = first) => out.push(...wrapSegs(segs, width, first, rest).map((line) => ({ line })));

  if (!shown) {
    if (state.phase === 'failed') {
      text([seg(`The run failed: ${state.error ?? 'unknown error'}`, 'critical')]);
      text([seg('Press r to try again.', 'muted')]);
    } else {
      text([seg('Checking… the root cause, if there is one, appears here once every probe has finished.', 'muted')]);
    }
    return { lines: out };
  }

  const items = findingItems(shown.findings);
  const causes = items.filter((i) => i.group === 'cause' && i.depth === 0).length;
  const symptoms = items.filter((i) => i.depth > 0).length;
  const unknowns = items.filter((i) => i.group === 'unknown' && i.depth === 0).length;
  const note = state.phase === 'running' ? ' (from the previous run; checking again)' : state.phase === 'failed' ? ` (from the previous run; the last one failed: ${state.error ?? 'unknown error'})` : '';

  if (causes === 0 && unknowns === 0) {
    const checks = shown.observations.filter((o) => o.status === 'ok').length;
    text([seg('✔ Nothing wrong found', 'ok', { bold: true }), seg(`: ${plural(checks, 'check')} passed${note}`, 'muted')]);
  } else {
    const parts = [
      causes ? plural(causes, 'root cause') : '',
      symptoms ? `${plural(symptoms, 'symptom')} ${causes + unknowns === 1 ? 'it explains' : 'they explain'} (↳)` : '',
      unknowns ? `${unknowns} could not be judged` : '',
    ].filter(Boolean);
    text([seg(parts.join(', '), undefined, { bold: true }), seg(note, 'muted')]);
  }

  let group: FindingItem['group'] | undefined = 'cause';
  items.forEach((item, index) => {
    if (item.depth === 0 && item.group !== group) {
      group = item.group;
      if (group === 'unknown') text([seg('Could not judge:', undefined, { bold: true })]);
      if (group === 'out-of-scope') text([seg('Not checked in this run (does not change the status):', 'muted')]);
    }
    for (const line of itemLines(item, index === state.selected, width)) out.push({ line, item: index });
  });
  return { lines: out, selected: state.selected };
}

function itemLines(item: FindingItem, selected: boolean, width: number): Line[] {
  const f = item.finding;
  const pointer = selected ? seg('› ', 'accent', { bold: true }) : seg('  ');
  const indent = '  '.repeat(Math.max(0, item.depth - 1));
  const outOfScope = item.group === 'out-of-scope';
  const mark = outOfScope ? seg('–', 'muted') : item.depth === 0 ? seg(SEVERITY_MARK[f.severity], SEVERITY_TONE[f.severity]) : seg('↳', SEVERITY_TONE[f.severity]);
  const first: Line = [pointer, seg(indent + (item.depth > 0 ? '  ' : '')), mark, seg(' ')];
  const rest: Line = [seg(' '.repeat(lineWidth(first)))];
  const style: Omit<Seg, 'text'> = selected ? { inverse: true, bold: item.depth === 0 } : { tone: item.depth > 0 || outOfScope ? 'muted' : undefined, bold: item.depth === 0 && !outOfScope };
  return wrapSegs([{ text: f.title, ...style }], width, first, rest);
}

/**
 * The lines of the findings list that fit `height`, always including the
 * selected item (from its first line), with "N more" markers where lines
 * were left out. The first line (the pane's heading) always stays.
 */
function windowAround(all: PaneLine[], selected: number | undefined, height: number): Line[] {
  if (all.length <= height) return all.map((l) => l.line);
  const head = all.slice(0, 1);
  const list = all.slice(1);
  const room = height - head.length;
  const first = list.findIndex((l) => l.item === selected);
  let last = first;
  while (last + 1 < list.length && list[last + 1].item === selected) last++;
  const fits = (start: number) => {
    const top = start > 0 ? 1 : 0;
    const bottomNeeded = start + (room - top) < list.length ? 1 : 0;
    return { top, visible: room - top - bottomNeeded };
  };
  let start = 0;
  if (first >= 0) {
    while (start < first && last >= start + fits(start).visible) start++;
  }
  const { top, visible } = fits(start);
  const shown = list.slice(start, start + Math.max(1, visible));
  const below = list.length - start - shown.length;
  const itemsAbove = new Set(list.slice(0, start).map((l) => l.item).filter((i) => i !== undefined)).size;
  const itemsBelow = new Set(list.slice(start + shown.length).map((l) => l.item).filter((i) => i !== undefined)).size;
  return [
    ...head.map((l) => l.line),
    ...(top ? [[seg(`  ↑ ${itemsAbove ? plural(itemsAbove, 'finding') : 'more'} above`, 'muted')]] : []),
    ...shown.map((l) => l.line),
    ...(below > 0 ? [[seg(`  ↓ ${itemsBelow ? plural(itemsBelow, 'finding') : 'more'} below`, 'muted')]] : []),
  ];
}

// ------------------------------------------------------------------ detail

export function detailLines(f: Finding, observations: readonly Observation[], findings: readonly Finding[], width: number): Line[] {
  const out: Line[] = [];
  const text = (segs: Seg[], first: Line = [], rest: Line = first) => out.push(...wrapSegs(segs, width, first, rest));
  const byKey = new Map(findings.map((x) => [x.key, x]));
  const tone = SEVERITY_TONE[f.severity];
  const kind = f.outOfScope ? 'not checked in this run' : f.root ? (f.severity === 'unknown' ? 'could not be judged' : 'root cause') : 'symptom';
  text([seg(`${SEVERITY_MARK[f.severity]} ${f.severity.toUpperCase()}`, tone, { bold: true }), seg(` · ${kind} · ${f.key}`, 'muted')]);
  text([seg(f.title, undefined, { bold: true })]);
  out.push(BLANK);
  text([seg(f.explanation)]);
  if (f.impact) {
    out.push(BLANK);
    text([seg('Impact: ', undefined, { bold: true }), seg(f.impact)], [], [seg('  ')]);
  }

  const causes = f.suppressedBy.map((k) => byKey.get(k)).filter((x): x is Finding => x !== undefined);
  if (causes.length > 0) {
    out.push(BLANK);
    out.push([seg('Follows from', undefined, { bold: true })]);
    for (const c of causes) text([seg(c.title)], [seg('  ↑ ', SEVERITY_TONE[c.severity])], [seg('    ')]);
  }
  const effects = f.explains.map((k) => byKey.get(k)).filter((x): x is Finding => x !== undefined);
  if (effects.length > 0) {
    out.push(BLANK);
    out.push([seg('Explains (symptoms, not separate causes)', undefined, { bold: true })]);
    for (const e of effects) text([seg(e.title)], [seg('  ↳ ', SEVERITY_TONE[e.severity])], [seg('    ')]);
  }

  const evidence = f.evidence.map((id) => observations.find((o) => o.id === id)).filter((o): o is Observation => o !== undefined);
  if (evidence.length > 0) {
    out.push(BLANK);
    out.push([seg('Evidence', undefined, { bold: true }), seg(` (${plural(evidence.length, 'observation')})`, 'muted')]);
    for (const o of evidence) {
      const probe = o.probe.padEnd(5);
      text([seg(o.summary)], [seg('  '), OBS_MARK[o.status], seg(` ${probe} `, 'muted')], [seg(' '.repeat(10))]);
    }
  }

  if (f.fixes.length > 0) {
    out.push(BLANK);
    out.push(...wrapSegs([seg(f.fixes.length === 1 ? 'Fix' : `Fixes (${f.fixes.length}, most likely to help first)`, undefined, { bold: true }), seg(' · c: copy-friendly view', 'muted')], width));
    f.fixes.forEach((fix, i) => {
      if (i > 0) out.push(BLANK);
      out.push(...fixLines(fix, i, width));
    });
  }
  return out;
}

function fixLines(fix: Fix, index: number, width: number): Line[] {
  const out: Line[] = [];
  const n = `${index + 1}. `;
  out.push(...wrapSegs([seg(fix.title, undefined, { bold: true })], width, [seg(`  ${n}`, 'accent')], [seg(' '.repeat(2 + n.length))]));
  const pad = ' '.repeat(2 + n.length);
  fix.steps.forEach((step, i) => {
    const m = `${i + 1}. `;
    out.push(...wrapSegs([seg(step)], width, [seg(pad + m, 'muted')], [seg(pad + ' '.repeat(m.length))]));
  });
  if (fix.snippet) {
    out.push(...wrapSegs([seg(fix.snippet.file, 'muted')], width, [seg(`${pad}┌─ `, 'muted')], [seg(`${pad}   `)]));
    for (const l of fix.snippet.text.split('\n')) {
      // Shown wrapped here; `c` shows the same lines unwrapped and unframed for pasting.
      out.push(...wrapSegs([seg(l === '' ? ' ' : l, 'info')], width, [seg(`${pad}│ `, 'muted')], [seg(`${pad}│   `, 'muted')]));
    }
    out.push([seg(`${pad}└─`, 'muted')]);
  }
  return out;
}

// ------------------------------------------------------------------ copy

/**
 * One fix as plain text: no frame, no box-drawing, no indentation on the
 * snippet, so a mouse selection pastes exactly what should be run or
 * written. Snippet lines are never wrapped when they fit; one wider than the
 * terminal has to be, and the view says so.
 */
export function copyLines(f: Finding, fix: Fix, index: number, width: number): Line[] {
  const out: Line[] = [];
  const text = (segs: Seg[], first: Line = [], rest: Line = first) => out.push(...wrapSegs(segs, width, first, rest));
  text([seg(`Fix ${index + 1} of ${f.fixes.length} for: ${f.title}`, 'muted')]);
  out.push(BLANK);
  text([seg(fix.title, undefined, { bold: true })]);
  out.push(BLANK);
  fix.steps.forEach((step, i) => {
    const m = `${i + 1}. `;
    text([seg(step)], [seg(m)], [seg(' '.repeat(m.length))]);
  });
  if (fix.snippet) {
    const lines = fix.snippet.text.split('\n');
    const wide = lines.filter((l) => l.length > width);
    out.push(BLANK);
    text([seg(`${fix.snippet.file}:`, 'muted')]);
    if (wide.length > 0) {
      text([seg(`${plural(wide.length, 'line is', 'lines are')} wider than this terminal (${Math.max(...wide.map((l) => l.length))} > ${width} columns) and wrapped below: widen the window to copy ${wide.length === 1 ? 'it' : 'them'} whole.`, 'warning')]);
    }
    for (const l of lines) {
      if (l.length <= width) out.push([seg(l)]);
      else out.push(...wrapSegs([seg(l)], width));
    }
  }
  return out;
}

// ------------------------------------------------------------------ help, first run

function helpLines(state: TuiState, width: number): Line[] {
  const out: Line[] = [];
  const keyCol = 14;
  const row = (keys: string, what: string) =>
    out.push(...wrapSegs([seg(what)], width, [seg(`  ${keys}`.padEnd(keyCol), 'accent')], [seg(' '.repeat(keyCol))]));
  out.push([seg('Keys', undefined, { bold: true })]);
  row('↑ ↓  j k', 'select a finding; in a detail or a fix, scroll');
  row('enter', 'open the selected finding: explanation, evidence and fixes (enter or esc: back)');
  row('← →', 'in a detail: previous or next finding; in the copy view: the other fixes');
  row('c', 'the selected finding\'s fix as plain text, ready to select and paste');
  row('r', 'run every probe again now');
  row('a', `auto-refresh on or off: a new run ${formatEvery(state.refreshMs)} after each one ends (tui.refresh in netdoctor.yaml, or --refresh)`);
  row('?', 'this help (esc: back)');
  row('q', 'quit; probes still running are stopped');
  out.push(BLANK);
  out.push([seg('Marks', undefined, { bold: true })]);
  const mark = (m: Seg, what: string) => out.push(...wrapSegs([seg(what)], width, [seg('  '), m, seg(' '.repeat(keyCol - 3))], [seg(' '.repeat(keyCol))]));
  mark(seg('✖', 'critical'), 'critical: something is broken');
  mark(seg('!', 'warning'), 'warning: degraded, or about to break');
  mark(seg('?', 'unknown'), 'unknown: could not be judged (no permission, no answer that can be read); never counted as healthy');
  mark(seg('✔', 'ok'), 'as it should be');
  mark(seg('–', 'muted'), 'not checked in this run');
  mark(seg('↳', 'critical'), 'a symptom, explained by the finding above it: fix the root cause first');
  out.push(BLANK);
  para(out, [seg('Colours only repeat what the marks say; NO_COLOR=1 turns them off.', 'muted')], width);
  return out;
}

function para(out: Line[], segs: Seg[], width: number): void {
  out.push(...wrapSegs(segs, width));
}

function firstRunLines(facts: FirstRunFacts | undefined, width: number): Line[] {
  const out: Line[] = [];
  const col = 14;
  const fact = (name: string, value: string, tone?: Tone) =>
    out.push(...wrapSegs([seg(value, tone)], width, [seg(`  ${name}`.padEnd(col), 'muted')], [seg(' '.repeat(col))]));
  para(out, [seg('No netdoctor.yaml yet.', undefined, { bold: true }), seg(' This is what this machine already says about its network (read from the kernel\'s routes, its interfaces and /etc/resolv.conf — nothing was sent):')], width);
  out.push(BLANK);
  fact('Interface', facts?.iface ? `${facts.iface}${facts.address ? `  ${facts.address}` : ''}` : 'none: no default route', facts?.iface ? undefined : 'warning');
  fact('Gateway', facts?.gateway ?? 'none found', facts?.gateway ? undefined : 'warning');
  fact('Resolvers', facts?.resolvers.length ? facts.resolvers.join(', ') : 'none in /etc/resolv.conf', facts?.resolvers.length ? undefined : 'warning');
  if (facts?.searched.length) fact('Looked for', facts.searched.join(', '), 'muted');
  out.push(BLANK);
  para(out, [seg('netdoctor can check the network with just these, but it does not know yet which machines matter to you: your Pis and their addresses, the VPN, the DDNS name.')], width);
  out.push(BLANK);
  const key = (k: string, what: string) => out.push(...wrapSegs([seg(what)], width, [seg(`  ${k}`.padEnd(9), 'accent')], [seg(' '.repeat(9))]));
  key('i', 'write a starter netdoctor.yaml here (netdoctor init: reads the neighbour table and asks before sending anything)');
  key('enter', 'check the network now with these defaults');
  key('q', 'quit');
  return out;
}

// ------------------------------------------------------------------ footer

function footerLines(state: TuiState, width: number, position?: string): Line[] {
  const out: Line[] = [];
  if (state.notice) out.push(...wrapSegs([seg(state.notice, 'accent')], width));
  const keys: Array<[string, string]> = (() => {
    switch (state.view) {
      case 'first-run':
        return [['i', 'write netdoctor.yaml'], ['enter', 'check now'], ['?', 'help'], ['q', 'quit']];
      case 'main':
        return [['↑↓', 'select'], ['enter', 'details'], ['c', 'copy fix'], ['r', 're-run'], ['a', 'auto'], ['?', 'help'], ['q', 'quit']];
      case 'detail':
        return [['↑↓', position ? `scroll ${position}` : 'scroll'], ['←→', 'other findings'], ['c', 'copy fix'], ['esc', 'back'], ['q', 'quit']];
      case 'copy': {
        const fixes = selectedFinding(state)?.fixes.length ?? 0;
        return [
          ...(fixes > 1 ? [['←→', `fix ${state.fixIndex + 1} of ${fixes}`] as [string, string]] : []),
          ...(position ? [['↑↓', `scroll ${position}`] as [string, string]] : []),
          ['esc', 'back'],
          ['q', 'quit'],
        ];
      }
      case 'help':
        return [...(position ? [['↑↓', `scroll ${position}`] as [string, string]] : []), ['esc', 'back'], ['q', 'quit']];
    }
  })();
  out.push(...flowItems(keys.map(([k, what]) => [seg(k, 'accent', { bold: true }), seg(` ${what}`, 'muted')]), width, seg('  ')));
  return out;
}
