/**
 * What the screen says, computed without a terminal: every line fits the
 * width, the screen fits the height, words are never cut, and the probe rows
 * carry the figures a person looks for (DHCP servers and latency, each Pi at
 * its address / moved / missing, DNS answers, the VPN, DDNS, the internet).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PROBE_NAMES } from '../../src/probes/types.js';
import { probeFigures } from '../../src/report/tui/figures.js';
import { layoutScreen, ROW_LABEL_WIDTH, type Screen } from '../../src/report/tui/layout.js';
import { flowItems, lineText, seg, wrapSegs } from '../../src/report/tui/lines.js';
import { findingItems, initialState, reduce, type Action, type Command, type TuiState } from '../../src/report/tui/state.js';
import { eventsOf, scenario } from './support.js';

const NAMES = ['unplugged-pi', 'healthy', 'reservations-lost', 'isp-down', 'no-permission', 'outside-vpn-unreachable', 'ddns-stale-and-dns-down', 'vpn-tls-auth'];
const scenarios = Object.fromEntries(NAMES.map((n) => [n, scenario(n)]));
const info = { site: 'home', iface: 'eth0', vantage: 'inside' as const, label: 'demo: unplugged-pi (recorded 2026-11-25)' };

function finished(name: string, ...commands: Command[]): TuiState {
  const s = scenarios[name];
  const actions: Action[] = [
    ...eventsOf(s.run).map((event): Action => ({ type: 'run-event', seq: 1, event })),
    { type: 'run-done', seq: 1, outcome: s.outcome, finishedAt: Date.parse('2026-11-25T14:00:10Z') },
    ...commands.map((command): Action => ({ type: 'command', command })),
  ];
  return actions.reduce(reduce, initialState({ probes: PROBE_NAMES, refreshMs: 30_000 }));
}

/** The screen as text, the way a terminal would show it. */
function screenText(screen: Screen): string[] {
  const rows = (screen.rows ?? []).flatMap((r) =>
    r.lines.map((l, i) => (i === 0 ? `${r.spinning ? '⠋' : r.mark.text} ${r.label.padEnd(ROW_LABEL_WIDTH)}` : ' '.repeat(2 + ROW_LABEL_WIDTH)) + lineText(l)),
  );
  return [...screen.header.map(lineText), '', ...rows, ...(screen.rows ? [''] : []), ...screen.body.map(lineText), ...screen.footer.map(lineText)];
}

const VIEWS: Command[][] = [[], ['enter'], ['copy'], ['help'], ['down', 'enter', 'pageDown'], ['enter', 'copy', 'right']];

describe('the screen fits the terminal', () => {
  it('never draws a line wider than the terminal, nor more rows than it has (less one)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...NAMES), fc.constantFrom(...VIEWS), fc.integer({ min: 40, max: 200 }), fc.integer({ min: 20, max: 60 }), (name, view, columns, rows) => {
        const text = screenText(layoutScreen(finished(name, ...view), info, { columns, rows }));
        for (const line of text) expect(line.length, `${name} ${view.join('+')} at ${columns}: ${line}`).toBeLessThanOrEqual(columns);
        expect(text.length, `${name} ${view.join('+')} at ${columns}x${rows}`).toBeLessThanOrEqual(rows - 1);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps the root cause whole at 60 columns: its title reads the same, no word cut', () => {
    const s = finished('unplugged-pi');
    const text = screenText(layoutScreen(s, info, { columns: 60, rows: 30 }));
    const title = s.shown!.findings[0].title;
    const flat = text.join(' ').replace(/\s+/g, ' ');
    expect(flat).toContain(`› ✖ ${title}`);
    const words = new Set(text.flatMap((l) => l.trim().split(/\s+/)));
    for (const w of title.split(' ')) expect(words.has(w), w).toBe(true);
  });

  it('shows the selected finding however far down the list it is', () => {
    const s = finished('outside-vpn-unreachable', 'end');
    const text = screenText(layoutScreen(s, info, { columns: 60, rows: 22 }));
    const last = s.shown!.findings.filter((f) => f.outOfScope).at(-1)!;
    expect(text.join(' ').replace(/\s+/g, ' ')).toContain(`› – ${last.title}`);
    expect(text.some((l) => /↑ \d+ findings? above/.test(l))).toBe(true);
  });
});

describe('wrapping', () => {
  const word = fc.stringMatching(/^[a-z0-9.:()-]{1,14}$/);
  it('wraps at spaces only, keeping every word and its order', () => {
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 40 }), fc.integer({ min: 15, max: 120 }), (words, width) => {
        const lines = wrapSegs([seg(words.join(' '))], width, [seg('› ')], [seg('  ')]);
        for (const l of lines) expect(lineText(l).length).toBeLessThanOrEqual(width);
        expect(lines.map((l) => lineText(l).slice(2)).join(' ').split(' ')).toEqual(words);
      }),
    );
  });

  it('moves a whole item to the next line rather than splitting it', () => {
    const items = ['pi-dns moved → 192.168.1.142', 'pi-vpn moved → 192.168.1.144', '4 up on 192.168.1.0/24'].map((t) => [seg(t)]);
    expect(flowItems(items, 49, seg(' · ')).map(lineText)).toEqual(['pi-dns moved → 192.168.1.142', 'pi-vpn moved → 192.168.1.144', '4 up on 192.168.1.0/24']);
    expect(flowItems(items, 60, seg(' · ')).map(lineText)).toEqual(['pi-dns moved → 192.168.1.142 · pi-vpn moved → 192.168.1.144', '4 up on 192.168.1.0/24']);
    // Only an item wider than the line is wrapped, at a space.
    expect(flowItems([[seg('a very long item that cannot fit')]], 12, seg(' · ')).map(lineText)).toEqual(['a very long', 'item that', 'cannot fit']);
  });
});

describe('probe rows', () => {
  const figures = (name: string, probe: (typeof PROBE_NAMES)[number]) => probeFigures(probe, scenarios[name].run.observations);
  const text = (f: ReturnType<typeof probeFigures>) => f.figures.map((x) => lineText(x.line)).join(' · ');

  it('healthy: the DHCP server and how fast it answered, each Pi at its address, DNS answering, VPN answering', () => {
    expect(text(figures('healthy', 'dhcp'))).toMatch(/^192\.168\.1\.1 answered in \d/);
    expect(text(figures('healthy', 'hosts'))).toContain('pi-dns at 192.168.1.10 · pi-vpn at 192.168.1.20');
    expect(text(figures('healthy', 'dns'))).toMatch(/^192\.168\.1\.10 5\/5 answered, [\d.]+m?s$/);
    expect(text(figures('healthy', 'vpn'))).toMatch(/pi-vpn, forward 192\.168\.1\.20:1194 answered/);
    expect(text(figures('healthy', 'wan'))).toMatch(/gateway 192\.168\.1\.1 .*internet up \(2\/2/);
    expect(text(figures('healthy', 'ddns'))).toContain('home.dyn.example.net = 203.0.113.10');
    // The router probe came after this fixture was recorded: a probe with no observations has no row to colour.
    for (const p of PROBE_NAMES.filter((n) => scenarios.healthy.run.observations.some((o) => o.probe === n))) expect(figures('healthy', p).tone, p).toBe('ok');
  });

  it('unplugged-pi: nobody answered DHCP, both Pis missing, DNS silent, no host behind the VPN forward', () => {
    expect(text(figures('unplugged-pi', 'dhcp'))).toMatch(/^no server answered in \d/);
    expect(text(figures('unplugged-pi', 'hosts'))).toContain('pi-dns missing · pi-vpn missing');
    expect(text(figures('unplugged-pi', 'dns'))).toMatch(/192\.168\.1\.10 silent \(0\/5\)/);
    expect(text(figures('unplugged-pi', 'vpn'))).toContain('192.168.1.20:1194 no host');
    expect(figures('unplugged-pi', 'dhcp').tone).toBe('critical');
    expect(figures('unplugged-pi', 'wan').tone).toBe('ok');
  });

  it('reservations-lost: where each Pi moved, and the VPN answering where pi-vpn is now', () => {
    const hosts = text(figures('reservations-lost', 'hosts'));
    expect(hosts).toMatch(/pi-dns moved → 192\.168\.1\.\d+ · pi-vpn moved → 192\.168\.1\.\d+/);
    expect(text(figures('reservations-lost', 'vpn'))).toMatch(/pi-vpn \(found\) 192\.168\.1\.\d+:1194 answered/);
  });

  it('says why a probe could not run, and which probes were not run from this vantage', () => {
    // The row names the problem; what to do about it is in the finding's detail.
    expect(text(figures('no-permission', 'dhcp'))).toMatch(/UDP port 68 \(EACCES\)/);
    expect(text(figures('no-permission', 'dhcp'))).not.toMatch(/setcap|sudo/);
    expect(figures('no-permission', 'dhcp').tone).toBe('unknown');
    expect(text(figures('outside-vpn-unreachable', 'dhcp'))).toBe('does not run from this vantage');
    expect(figures('outside-vpn-unreachable', 'dhcp').tone).toBe('muted');
  });

  it('shows a row running with what has arrived so far', () => {
    const s = scenarios['unplugged-pi'];
    const hosts = s.run.observations.filter((o) => o.probe === 'hosts');
    let state = initialState({ probes: PROBE_NAMES, refreshMs: 30_000 });
    state = reduce(state, { type: 'run-event', seq: 1, event: { type: 'probe-start', probe: 'hosts', at: '' } });
    const before = layoutScreen(state, info, { columns: 100, rows: 30 }).rows!.find((r) => r.name === 'hosts')!;
    expect(before.spinning).toBe(true);
    expect(before.lines.map(lineText)).toEqual(['checking…']);
    state = reduce(state, { type: 'run-event', seq: 1, event: { type: 'observation', observation: hosts[1] } });
    const after = layoutScreen(state, info, { columns: 100, rows: 30 }).rows!.find((r) => r.name === 'hosts')!;
    expect(after.spinning).toBe(true);
    expect(lineText(after.lines[0])).toContain('missing');
  });
});

describe('detail and copy views', () => {
  it('detail: severity, title, explanation, impact, evidence and every fix with its snippet', () => {
    const s = finished('reservations-lost', 'enter');
    const text = screenText(layoutScreen(s, info, { columns: 100, rows: 200 })).join('\n');
    const f = s.shown!.findings[0];
    expect(text).toContain('✖ CRITICAL · root cause');
    expect(text).toContain(f.title);
    expect(text).toContain('Impact:');
    expect(text).toMatch(/Evidence \(\d+ observations?\)/);
    expect(text).toContain(`Fixes (${f.fixes.length}, most likely to help first)`);
    const snippet = f.fixes.find((x) => x.snippet)!.snippet!;
    expect(text).toContain(`┌─ ${snippet.file}`);
    expect(text).toContain(`│ ${snippet.text.split('\n')[0]}`);
  });

  it('copy: the fix as plain text, snippet lines exactly as they must be pasted, no frame', () => {
    const s = finished('reservations-lost', 'copy');
    const f = s.shown!.findings[0];
    const fix = f.fixes.find((x) => x.snippet)!;
    const index = f.fixes.indexOf(fix);
    const moved = Array.from({ length: index }).reduce<TuiState>((st) => reduce(st, { type: 'command', command: 'right' }), s);
    const screen = layoutScreen(moved, info, { columns: 100, rows: 60 });
    const body = screen.body.map(lineText);
    expect(body.join('\n')).not.toMatch(/[┌│└─]/);
    for (const line of fix.snippet!.text.split('\n')) expect(body).toContain(line);
    expect(body.find((l) => l.startsWith('1. '))).toBe(`1. ${fix.steps[0]}`.slice(0, body.find((l) => l.startsWith('1. '))!.length));
  });

  it('copy: says when a snippet line is wider than the terminal instead of cutting it silently', () => {
    const wide = NAMES.flatMap((name) =>
      findingItems(scenarios[name].outcome.diagnosis.findings).flatMap((item, index) =>
        item.finding.fixes.map((fix, fixIndex) => ({ name, index, fixIndex, fix })).filter((x) => x.fix.snippet?.text.split('\n').some((l) => l.length > 60)),
      ),
    )[0];
    expect(wide, 'a scenario with a snippet line wider than 60 columns').toBeDefined();
    const commands: Command[] = [...Array<Command>(wide.index).fill('down'), 'copy', ...Array<Command>(wide.fixIndex).fill('right')];
    const body = layoutScreen(finished(wide.name, ...commands), info, { columns: 60, rows: 80 }).body.map(lineText).join('\n');
    expect(body).toContain(wide.fix.title.split(' ').slice(0, 3).join(' '));
    expect(body).toMatch(/wider than this terminal \(\d+ > 60 columns\)/);
  });
});
