/**
 * Everything the UI shows is this state, and every change to it goes
 * through `reduce`: keys become commands, runner events and finished runs
 * become actions. Pure — no clock, no I/O — so it is tested without
 * rendering. The effects that start runs, arm the auto-refresh timer and
 * quit only watch fields of this state (`runSeq`, `auto`, `quit`).
 */
import type { Finding } from '../../diagnose/types.js';
import type { Observation, ProbeName, ProbeOutcome, RunEvent } from '../../probes/types.js';
import type { RunStatus } from '../../shared/exit-codes.js';
import type { RunOutcome } from './source.js';

export type View = 'first-run' | 'main' | 'detail' | 'copy' | 'help';

export interface ProbeRow {
  name: ProbeName;
  phase: 'waiting' | 'running' | 'done';
  outcome?: ProbeOutcome;
  durationMs?: number;
  observations: Observation[];
}

/** The last finished run: what the findings pane, details and fixes show (also while the next run is on). */
export interface Shown {
  observations: Observation[];
  findings: Finding[];
  status: RunStatus;
  startedAt: string;
  durationMs: number;
  /** Epoch ms the run finished; the auto-refresh counts from here. */
  finishedAt: number;
}

export interface TuiState {
  /** Which run is current; each increment starts one (0: none yet, e.g. on the first-run screen). */
  runSeq: number;
  phase: 'idle' | 'running' | 'done' | 'failed';
  rows: ProbeRow[];
  shown?: Shown;
  /** Why the last run failed (not a network fault: netdoctor itself could not run). */
  error?: string;
  view: View;
  /** Where `esc` goes back to from the copy view (the list or the detail). */
  returnTo: View;
  /** Where `esc` goes back to from the help view. */
  helpFrom: View;
  /** Index into `findingItems(shown.findings)`. */
  selected: number;
  /** The selected finding's key, so a re-run keeps the selection on the same finding. */
  selectedKey?: string;
  /** First line shown in the detail, copy and help views. */
  scroll: number;
  /** Which fix of the selected finding the copy view shows. */
  fixIndex: number;
  auto: boolean;
  refreshMs: number;
  /** Set when the UI should end; `init` when the user asked for `netdoctor init` from the first-run screen. */
  quit?: 'quit' | 'init';
  /** One line of feedback to the last key ("auto-refresh on"); cleared by the next key. */
  notice?: string;
}

export type Command =
  | 'up' | 'down' | 'pageUp' | 'pageDown' | 'home' | 'end'
  | 'enter' | 'back' | 'left' | 'right'
  | 'rerun' | 'auto' | 'copy' | 'help' | 'quit' | 'init';

/** How far the current view can scroll; the layout knows it, the key handler passes it along. */
export interface Viewport {
  page: number;
  maxScroll: number;
}

export type Action =
  | { type: 'command'; command: Command; viewport?: Viewport }
  | { type: 'run-event'; seq: number; event: RunEvent }
  | { type: 'run-done'; seq: number; outcome: RunOutcome; finishedAt: number }
  | { type: 'run-failed'; seq: number; message: string }
  /** The auto-refresh timer armed after run `seq` fired. */
  | { type: 'auto-tick'; seq: number };

export interface InitOptions {
  probes: readonly ProbeName[];
  refreshMs: number;
  /** Start on the first-run screen (no config found) instead of running at once. */
  firstRun?: boolean;
  auto?: boolean;
}

const freshRows = (probes: readonly ProbeName[]): ProbeRow[] => probes.map((name) => ({ name, phase: 'waiting', observations: [] }));

export function initialState(opts: InitOptions): TuiState {
  return {
    runSeq: opts.firstRun ? 0 : 1,
    phase: opts.firstRun ? 'idle' : 'running',
    rows: freshRows(opts.probes),
    view: opts.firstRun ? 'first-run' : 'main',
    returnTo: 'main',
    helpFrom: 'main',
    selected: 0,
    scroll: 0,
    fixIndex: 0,
    auto: opts.auto ?? false,
    refreshMs: opts.refreshMs,
  };
}

// ------------------------------------------------------------------ findings as a list

export interface FindingItem {
  finding: Finding;
  /** 0 for a root; 1 for what it explains, 2 for what that explains… */
  depth: number;
  group: 'cause' | 'unknown' | 'out-of-scope';
}

/**
 * The findings pane top to bottom: root causes (worst first, as ranked by the
 * engine), each followed by the symptoms it explains, depth first; then what
 * could not be judged; then what was out of this run's scope. Every finding
 * appears exactly once.
 */
export function findingItems(findings: readonly Finding[]): FindingItem[] {
  const byKey = new Map(findings.map((f) => [f.key, f]));
  const rank = new Map(findings.map((f, i) => [f.key, i]));
  const seen = new Set<string>();
  const items: FindingItem[] = [];
  const walk = (f: Finding, depth: number, group: FindingItem['group']) => {
    if (seen.has(f.key)) return;
    seen.add(f.key);
    items.push({ finding: f, depth, group });
    const children = f.explains.filter((k) => byKey.has(k)).sort((a, b) => rank.get(a)! - rank.get(b)!);
    for (const k of children) walk(byKey.get(k)!, depth + 1, group);
  };
  const roots = findings.filter((f) => f.root);
  for (const f of roots.filter((r) => !r.outOfScope && r.severity !== 'unknown')) walk(f, 0, 'cause');
  for (const f of roots.filter((r) => !r.outOfScope && r.severity === 'unknown')) walk(f, 0, 'unknown');
  for (const f of roots.filter((r) => r.outOfScope)) walk(f, 0, 'out-of-scope');
  // Never lose a finding, even one whose roots are missing from a hand-made recording.
  for (const f of findings) walk(f, f.root ? 0 : 1, f.severity === 'unknown' ? 'unknown' : 'cause');
  return items;
}

export function itemsOf(state: TuiState): FindingItem[] {
  return state.shown ? findingItems(state.shown.findings) : [];
}

export function selectedFinding(state: TuiState): Finding | undefined {
  return itemsOf(state)[state.selected]?.finding;
}

// ------------------------------------------------------------------ keys

export interface KeyInfo {
  upArrow?: boolean;
  downArrow?: boolean;
  leftArrow?: boolean;
  rightArrow?: boolean;
  pageUp?: boolean;
  pageDown?: boolean;
  home?: boolean;
  end?: boolean;
  return?: boolean;
  escape?: boolean;
  backspace?: boolean;
  delete?: boolean;
  ctrl?: boolean;
  meta?: boolean;
}

/** ink's (input, key) → a command, or undefined for keys that mean nothing here. */
export function commandForKey(input: string, key: KeyInfo): Command | undefined {
  if (key.upArrow) return 'up';
  if (key.downArrow) return 'down';
  if (key.leftArrow) return 'left';
  if (key.rightArrow) return 'right';
  if (key.pageUp) return 'pageUp';
  if (key.pageDown) return 'pageDown';
  if (key.home) return 'home';
  if (key.end) return 'end';
  if (key.return) return 'enter';
  if (key.escape || key.backspace || key.delete) return 'back';
  if (key.ctrl || key.meta) return undefined;
  switch (input) {
    case 'k': return 'up';
    case 'j': return 'down';
    case 'h': return 'left';
    case 'l': return 'right';
    case ' ': return 'pageDown';
    case 'b': return 'pageUp';
    case 'g': return 'home';
    case 'G': return 'end';
    case 'r': return 'rerun';
    case 'a': return 'auto';
    case 'c': return 'copy';
    case '?': return 'help';
    case 'q': return 'quit';
    case 'i': return 'init';
    default: return undefined;
  }
}

/**
 * Commands for one chunk of input. ink hands over a run of plain characters
 * as one input (a paste, or keys typed faster than a frame: `k` then enter
 * arrive as "k\r"), so each character counts as its own key press.
 */
export function commandsForInput(input: string, key: KeyInfo): Command[] {
  const special = Object.entries(key).some(([name, on]) => on === true && name !== 'shift');
  if (special || input.length <= 1) {
    const c = commandForKey(input, key);
    return c ? [c] : [];
  }
  const out: Command[] = [];
  for (const ch of input) {
    const c = ch === '\r' || ch === '\n' ? 'enter' : ch === '\u007f' || ch === '\b' ? 'back' : commandForKey(ch, {});
    if (c) out.push(c);
  }
  return out;
}

// ------------------------------------------------------------------ the reducer

const clamp = (n: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, n));

export function reduce(state: TuiState, action: Action): TuiState {
  switch (action.type) {
    case 'command':
      return onCommand({ ...state, notice: undefined }, action.command, action.viewport);
    case 'run-event':
      return action.seq === state.runSeq ? onEvent(state, action.event) : state;
    case 'run-done':
      return action.seq === state.runSeq ? onDone(state, action.outcome, action.finishedAt) : state;
    case 'run-failed':
      if (action.seq !== state.runSeq) return state;
      return {
        ...state,
        phase: 'failed',
        error: action.message,
        rows: state.rows.map((r) => (r.phase === 'running' ? { ...r, phase: 'waiting' } : r)),
      };
    case 'auto-tick':
      return action.seq === state.runSeq && state.auto && state.phase === 'done' ? startRun(state) : state;
  }
}

function startRun(state: TuiState): TuiState {
  return { ...state, runSeq: state.runSeq + 1, phase: 'running', error: undefined, rows: freshRows(state.rows.map((r) => r.name)) };
}

function onEvent(state: TuiState, event: RunEvent): TuiState {
  const update = (probe: ProbeName, fn: (r: ProbeRow) => ProbeRow) => {
    const exists = state.rows.some((r) => r.name === probe);
    // A probe the source did not announce still gets a row: nothing observed is hidden.
    const rows = exists ? state.rows : [...state.rows, { name: probe, phase: 'waiting' as const, observations: [] }];
    return { ...state, rows: rows.map((r) => (r.name === probe ? fn(r) : r)) };
  };
  switch (event.type) {
    case 'run-start':
      return { ...state, phase: 'running' };
    case 'probe-start':
      return update(event.probe, (r) => ({ ...r, phase: 'running' }));
    case 'observation':
      return update(event.observation.probe, (r) => ({ ...r, observations: [...r.observations, event.observation] }));
    case 'probe-end':
      return update(event.probe, (r) => ({ ...r, phase: 'done', outcome: event.outcome, durationMs: event.durationMs }));
    case 'run-end':
      return state;
  }
}

function onDone(state: TuiState, outcome: RunOutcome, finishedAt: number): TuiState {
  const shown: Shown = {
    observations: outcome.result.observations,
    findings: outcome.diagnosis.findings,
    status: outcome.diagnosis.status,
    startedAt: outcome.result.startedAt,
    durationMs: outcome.result.durationMs,
    finishedAt,
  };
  const items = findingItems(shown.findings);
  const kept = state.selectedKey ? items.findIndex((i) => i.finding.key === state.selectedKey) : -1;
  const selected = kept >= 0 ? kept : 0;
  const next: TuiState = {
    ...state,
    phase: 'done',
    error: undefined,
    shown,
    selected,
    selectedKey: items[selected]?.finding.key,
    // Rows the run never reported on (it ended early) stop spinning.
    rows: state.rows.map((r) => (r.phase === 'done' ? r : { ...r, phase: 'done', observations: shown.observations.filter((o) => o.probe === r.name) })),
  };
  // The finding being read is gone (fixed, or the network changed): back to the list.
  if ((state.view === 'detail' || state.view === 'copy') && kept < 0) return { ...next, view: 'main', scroll: 0, fixIndex: 0, notice: 'the finding you were reading is gone in this run' };
  if (state.view === 'copy' && kept >= 0) {
    const fixes = items[kept].finding.fixes.length;
    return { ...next, fixIndex: clamp(state.fixIndex, 0, Math.max(0, fixes - 1)) };
  }
  return next;
}

function select(state: TuiState, index: number): TuiState {
  const items = itemsOf(state);
  if (items.length === 0) return state;
  const selected = clamp(index, 0, items.length - 1);
  return { ...state, selected, selectedKey: items[selected].finding.key };
}

function scrollTo(state: TuiState, scroll: number, viewport?: Viewport): TuiState {
  const max = viewport?.maxScroll ?? Number.MAX_SAFE_INTEGER;
  return { ...state, scroll: clamp(scroll, 0, max) };
}

/**
 * Where a movement key goes from `at`, the same in every view: a line (or a
 * finding) up or down, a page, the first, the `last`. Undefined for any other
 * key. The caller clamps.
 */
function moved(command: Command, at: number, page: number, last: number): number | undefined {
  switch (command) {
    case 'up': return at - 1;
    case 'down': return at + 1;
    case 'pageUp': return at - page;
    case 'pageDown': return at + page;
    case 'home': return 0;
    case 'end': return last;
    default: return undefined;
  }
}

function onCommand(state: TuiState, command: Command, viewport?: Viewport): TuiState {
  const page = Math.max(1, (viewport?.page ?? 10) - 1);
  // In the views that scroll (detail, copy, help), a movement key scrolls: to the end means to the viewport's last line.
  const scrolled = moved(command, state.scroll, page, viewport?.maxScroll ?? 0);
  // Keys that mean the same in every view.
  switch (command) {
    case 'quit':
      return { ...state, quit: 'quit' };
    case 'rerun':
      if (state.view === 'first-run') return { ...startRun(state), view: 'main' };
      if (state.phase === 'running') return { ...state, notice: 'a run is already in progress' };
      return { ...startRun(state), notice: 're-running every probe' };
    case 'auto': {
      const auto = !state.auto;
      return { ...state, auto, notice: auto ? `auto-refresh on: a new run ${formatEvery(state.refreshMs)} after each one ends` : 'auto-refresh off' };
    }
    case 'help':
      if (state.view === 'help') return { ...state, view: state.helpFrom, scroll: 0 };
      return { ...state, view: 'help', helpFrom: state.view, scroll: 0 };
    default:
      break;
  }

  switch (state.view) {
    case 'first-run':
      if (command === 'enter') return { ...startRun(state), view: 'main' };
      if (command === 'init') return { ...state, quit: 'init' };
      return state;

    case 'main': {
      const items = itemsOf(state);
      const to = moved(command, state.selected, page, items.length - 1);
      if (to !== undefined) return select(state, to);
      switch (command) {
        case 'enter':
        case 'right':
          if (items.length === 0) return { ...state, notice: state.shown ? 'nothing to expand: no findings' : 'no findings yet: the first run is still going' };
          return { ...state, view: 'detail', scroll: 0 };
        case 'copy':
          return openCopy(state);
        default:
          return state;
      }
    }

    case 'detail':
      if (scrolled !== undefined) return scrollTo(state, scrolled, viewport);
      switch (command) {
        case 'left': return { ...select(state, state.selected - 1), scroll: 0 };
        case 'right': return { ...select(state, state.selected + 1), scroll: 0 };
        case 'enter':
        case 'back':
          return { ...state, view: 'main', scroll: 0 };
        case 'copy':
          return openCopy(state);
        default:
          return state;
      }

    case 'copy': {
      const fixes = selectedFinding(state)?.fixes.length ?? 0;
      if (scrolled !== undefined) return scrollTo(state, scrolled, viewport);
      switch (command) {
        case 'left': return fixes > 1 ? { ...state, fixIndex: (state.fixIndex + fixes - 1) % fixes, scroll: 0 } : state;
        case 'right': return fixes > 1 ? { ...state, fixIndex: (state.fixIndex + 1) % fixes, scroll: 0 } : state;
        case 'enter':
        case 'back':
        case 'copy':
          return { ...state, view: state.returnTo, scroll: 0 };
        default:
          return state;
      }
    }

    case 'help':
      if (scrolled !== undefined) return scrollTo(state, scrolled, viewport);
      switch (command) {
        case 'enter':
        case 'back':
          return { ...state, view: state.helpFrom, scroll: 0 };
        case 'init':
          return state.helpFrom === 'first-run' ? { ...state, quit: 'init' } : state;
        default:
          return state;
      }
  }
}

function openCopy(state: TuiState): TuiState {
  const finding = selectedFinding(state);
  if (!finding) return { ...state, notice: state.shown ? 'no finding selected: nothing to copy' : 'no findings yet: the first run is still going' };
  if (finding.fixes.length === 0) return { ...state, notice: 'this finding has no fix to copy' };
  return { ...state, view: 'copy', returnTo: state.view, scroll: 0, fixIndex: 0 };
}

/** `every 30s`. */
export function formatEvery(ms: number): string {
  const s = ms / 1000;
  if (s < 60) return `${Number(s.toFixed(1))}s`;
  if (s % 60 === 0 && s < 3600) return `${s / 60}m`;
  return `${Math.round(s)}s`;
}
