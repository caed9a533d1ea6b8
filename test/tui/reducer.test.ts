/**
 * The UI's state machine, without rendering: runner events fill the probe
 * rows, a finished run becomes the findings list, keys become commands that
 * select, expand, copy, re-run and quit.
 */
import { describe, expect, it } from 'vitest';
import { PROBE_NAMES } from '../../src/probes/types.js';
import { commandForKey, commandsForInput, findingItems, initialState, reduce, selectedFinding, type Action, type Command, type TuiState, type Viewport } from '../../src/report/tui/state.js';
import { eventsOf, scenario } from './support.js';

const unplugged = scenario('unplugged-pi');
const healthy = scenario('healthy');
const moved = scenario('reservations-lost');

const start = () => initialState({ probes: PROBE_NAMES, refreshMs: 30_000 });
const apply = (state: TuiState, ...actions: Action[]) => actions.reduce(reduce, state);
const cmd = (command: Command, viewport?: Viewport): Action => ({ type: 'command', command, viewport });
const runOf = (s: ReturnType<typeof scenario>, seq = 1, finishedAt = 1000): Action[] => [
  ...eventsOf(s.run).map((event): Action => ({ type: 'run-event', seq, event })),
  { type: 'run-done', seq, outcome: s.outcome, finishedAt },
];

describe('runner events', () => {
  it('starts with a run on and every probe waiting', () => {
    const s = start();
    expect(s.runSeq).toBe(1);
    expect(s.phase).toBe('running');
    expect(s.rows.map((r) => [r.name, r.phase])).toEqual(PROBE_NAMES.map((n) => [n, 'waiting']));
  });

  it('marks probes running, collects their observations and ends them', () => {
    const events = eventsOf(unplugged.run);
    let s = start();
    s = apply(s, { type: 'run-event', seq: 1, event: events[0] }, { type: 'run-event', seq: 1, event: { type: 'probe-start', probe: 'dhcp', at: '' } });
    expect(s.rows.find((r) => r.name === 'dhcp')!.phase).toBe('running');
    const hostObs = unplugged.run.observations.filter((o) => o.probe === 'hosts');
    s = apply(s, ...hostObs.map((observation): Action => ({ type: 'run-event', seq: 1, event: { type: 'observation', observation } })));
    expect(s.rows.find((r) => r.name === 'hosts')!.observations).toEqual(hostObs);
    s = reduce(s, { type: 'run-event', seq: 1, event: { type: 'probe-end', probe: 'hosts', outcome: 'done', durationMs: 1100 } });
    expect(s.rows.find((r) => r.name === 'hosts')).toMatchObject({ phase: 'done', outcome: 'done', durationMs: 1100 });
    expect(s.phase).toBe('running');
  });

  it('ignores events and results of a run that is no longer current', () => {
    const s = apply(start(), ...runOf(healthy, 7));
    expect(s).toEqual(start());
  });

  it('shows the diagnosis when the run is done, selecting the first root cause', () => {
    const s = apply(start(), ...runOf(unplugged));
    expect(s.phase).toBe('done');
    expect(s.shown?.status).toBe('critical');
    expect(s.rows.every((r) => r.phase === 'done')).toBe(true);
    expect(selectedFinding(s)?.id).toBe('dhcp-server-missing');
    expect(s.selectedKey).toBe(selectedFinding(s)?.key);
  });

  it('reports a run that failed and stops its spinners', () => {
    let s = apply(start(), { type: 'run-event', seq: 1, event: { type: 'probe-start', probe: 'dns', at: '' } });
    s = reduce(s, { type: 'run-failed', seq: 1, message: 'cannot read netdoctor.yaml' });
    expect(s.phase).toBe('failed');
    expect(s.error).toBe('cannot read netdoctor.yaml');
    expect(s.rows.some((r) => r.phase === 'running')).toBe(false);
  });
});

describe('the findings list', () => {
  it('puts root causes first with the symptoms they explain beneath them, depth first, each once', () => {
    const items = findingItems(unplugged.outcome.diagnosis.findings);
    expect(items.map((i) => [i.finding.id, i.depth])).toEqual([
      ['dhcp-server-missing', 0],
      ['host-missing', 1],
      ['dns-server-down', 2],
      ['host-missing', 1],
      ['vpn-forward-stale', 2],
    ]);
    expect(new Set(items.map((i) => i.finding.key)).size).toBe(unplugged.outcome.diagnosis.findings.length);
  });

  it('lists the one common root cause with each moved host beneath it', () => {
    const items = findingItems(moved.outcome.diagnosis.findings);
    expect(items.filter((i) => i.depth === 0 && i.group !== 'out-of-scope').map((i) => i.finding.id)).toEqual(['reservations-lost']);
    expect(items.filter((i) => i.depth === 1).map((i) => i.finding.labels.host)).toEqual(['pi-dns', 'pi-vpn']);
    expect(items[1].finding.suppressedBy).toContain(items[0].finding.key);
  });

  it('is empty for a healthy network', () => {
    expect(findingItems(healthy.outcome.diagnosis.findings).filter((i) => i.group !== 'out-of-scope')).toEqual([]);
  });
});

describe('keys', () => {
  const done = () => apply(start(), ...runOf(unplugged));

  it('maps arrows, vi keys and letters to commands, and ignores the rest', () => {
    expect(commandForKey('', { downArrow: true })).toBe('down');
    expect(commandForKey('j', {})).toBe('down');
    expect(commandForKey('k', {})).toBe('up');
    expect(commandForKey('', { return: true })).toBe('enter');
    expect(commandForKey('', { escape: true })).toBe('back');
    expect(commandForKey('r', {})).toBe('rerun');
    expect(commandForKey('a', {})).toBe('auto');
    expect(commandForKey('c', {})).toBe('copy');
    expect(commandForKey('?', {})).toBe('help');
    expect(commandForKey('q', {})).toBe('quit');
    expect(commandForKey('c', { ctrl: true })).toBeUndefined();
    expect(commandForKey('x', {})).toBeUndefined();
  });

  it('takes a run of characters typed faster than a frame as one key each', () => {
    expect(commandsForInput('k\r', {})).toEqual(['up', 'enter']);
    expect(commandsForInput('jjx?', {})).toEqual(['down', 'down', 'help']);
    expect(commandsForInput('', { downArrow: true })).toEqual(['down']);
    expect(commandsForInput('q', {})).toEqual(['quit']);
  });

  it('selects with up and down, within the list', () => {
    let s = done();
    s = apply(s, cmd('down'), cmd('down'));
    expect(s.selected).toBe(2);
    expect(selectedFinding(s)?.id).toBe('dns-server-down');
    s = apply(s, cmd('end'), cmd('down'), cmd('down'));
    expect(s.selected).toBe(4);
    s = apply(s, cmd('up'), cmd('home'), cmd('up'));
    expect(s.selected).toBe(0);
  });

  it('expands the selected finding with enter and goes back with esc or enter', () => {
    let s = apply(done(), cmd('down'), cmd('enter'));
    expect(s.view).toBe('detail');
    expect(selectedFinding(s)?.id).toBe('host-missing');
    expect(reduce(s, cmd('back')).view).toBe('main');
    expect(reduce(s, cmd('enter')).view).toBe('main');
  });

  it('scrolls a detail within what the layout says fits, and pages', () => {
    let s = apply(done(), cmd('enter'));
    const viewport = { page: 10, maxScroll: 25 };
    s = apply(s, cmd('down', viewport), cmd('down', viewport));
    expect(s.scroll).toBe(2);
    s = apply(s, cmd('pageDown', viewport), cmd('pageDown', viewport), cmd('pageDown', viewport), cmd('pageDown', viewport));
    expect(s.scroll).toBe(25);
    s = apply(s, cmd('up', viewport), cmd('home', viewport));
    expect(s.scroll).toBe(0);
  });

  it('scrolls the copy view and the help the same way: lines, pages, home and end', () => {
    const viewport = { page: 10, maxScroll: 25 };
    for (const open of [[cmd('enter'), cmd('copy')], [cmd('help')]]) {
      let s = apply(done(), ...open);
      s = apply(s, cmd('down', viewport), cmd('pageDown', viewport));
      expect(s.scroll).toBe(10);
      s = apply(s, cmd('end', viewport));
      expect(s.scroll).toBe(25);
      s = apply(s, cmd('pageUp', viewport), cmd('up', viewport));
      expect(s.scroll).toBe(15);
      s = apply(s, cmd('home', viewport));
      expect(s.scroll).toBe(0);
    }
  });

  it('moves to the next finding from a detail with → and starts it at the top', () => {
    const s = apply(done(), cmd('enter'), cmd('down', { page: 10, maxScroll: 9 }), cmd('right'));
    expect(s.view).toBe('detail');
    expect(s.selected).toBe(1);
    expect(s.scroll).toBe(0);
  });

  it('opens the copy view on the first fix, cycles fixes, and returns where it came from', () => {
    let s = apply(done(), cmd('enter'), cmd('copy'));
    expect(s.view).toBe('copy');
    expect(s.fixIndex).toBe(0);
    const fixes = selectedFinding(s)!.fixes.length;
    expect(fixes).toBeGreaterThan(1);
    s = apply(s, cmd('right'), cmd('right'));
    expect(s.fixIndex).toBe(2 % fixes);
    s = apply(s, cmd('left'), cmd('left'), cmd('left'));
    expect(s.fixIndex).toBe((fixes - 1) % fixes);
    expect(reduce(s, cmd('back')).view).toBe('detail');
    expect(apply(done(), cmd('copy'), cmd('back')).view).toBe('main');
  });

  it('says so when there is nothing to expand or copy', () => {
    const s = apply(start(), ...runOf(healthy));
    expect(reduce(s, cmd('enter'))).toMatchObject({ view: 'main', notice: 'nothing to expand: no findings' });
    expect(reduce(s, cmd('copy')).view).toBe('main');
    expect(reduce(s, cmd('copy')).notice).toMatch(/nothing to copy/);
    expect(reduce(start(), cmd('enter')).notice).toMatch(/first run is still going/);
  });

  it('re-runs when idle, keeps the last findings meanwhile, and refuses while a run is on', () => {
    const s = done();
    const again = reduce(s, cmd('rerun'));
    expect(again.runSeq).toBe(2);
    expect(again.phase).toBe('running');
    expect(again.rows.every((r) => r.phase === 'waiting' && r.observations.length === 0)).toBe(true);
    expect(again.shown).toBe(s.shown);
    const twice = reduce(again, cmd('rerun'));
    expect(twice.runSeq).toBe(2);
    expect(twice.notice).toBe('a run is already in progress');
  });

  it('keeps the selection on the same finding across a re-run, and leaves a detail whose finding is gone', () => {
    let s = apply(done(), cmd('down'), cmd('down'));
    const key = s.selectedKey;
    s = apply(s, cmd('rerun'), ...runOf(unplugged, 2));
    expect(s.selectedKey).toBe(key);
    s = apply(s, cmd('enter'), cmd('rerun'), ...runOf(healthy, 3));
    expect(s.view).toBe('main');
    expect(s.selected).toBe(0);
    expect(s.notice).toMatch(/gone/);
  });

  it('toggles auto-refresh, which starts a run only when its timer fires for the current, finished run', () => {
    let s = reduce(done(), cmd('auto'));
    expect(s.auto).toBe(true);
    expect(s.notice).toMatch(/auto-refresh on: a new run 30s after each one ends/);
    expect(reduce(s, { type: 'auto-tick', seq: 0 }).runSeq).toBe(1);
    s = reduce(s, { type: 'auto-tick', seq: 1 });
    expect(s.runSeq).toBe(2);
    expect(reduce(s, { type: 'auto-tick', seq: 2 }).runSeq).toBe(2); // still running
    expect(reduce(reduce(done(), cmd('auto')), cmd('auto')).auto).toBe(false);
    expect(reduce(done(), { type: 'auto-tick', seq: 1 }).runSeq).toBe(1); // auto is off
  });

  it('quits from any view', () => {
    for (const path of [[], ['enter'], ['copy'], ['help']] as Command[][]) {
      expect(apply(done(), ...path.map((c) => cmd(c)), cmd('quit')).quit).toBe('quit');
    }
  });

  it('shows help over any view and returns to it', () => {
    const s = apply(done(), cmd('enter'), cmd('help'));
    expect(s.view).toBe('help');
    expect(reduce(s, cmd('back')).view).toBe('detail');
    expect(reduce(s, cmd('help')).view).toBe('detail');
  });
});

describe('first run', () => {
  const first = () => initialState({ probes: PROBE_NAMES, refreshMs: 30_000, firstRun: true });

  it('waits for the user before any run', () => {
    const s = first();
    expect(s).toMatchObject({ view: 'first-run', runSeq: 0, phase: 'idle' });
    expect(reduce(s, cmd('down'))).toMatchObject({ view: 'first-run', runSeq: 0 });
  });

  it('starts checking on enter, hands over to init on i, quits on q', () => {
    expect(reduce(first(), cmd('enter'))).toMatchObject({ view: 'main', runSeq: 1, phase: 'running' });
    expect(reduce(first(), cmd('init')).quit).toBe('init');
    expect(reduce(first(), cmd('quit')).quit).toBe('quit');
    expect(apply(first(), cmd('help'), cmd('init')).quit).toBe('init');
  });
});
