/**
 * The built CLI in a real terminal (tmux): `netdoctor demo` in a 100x30
 * pane replays the seed's outage; the test waits for the root cause, presses
 * keys, reads the pane the way a person would, shrinks the window to 60
 * columns and checks nothing overflows, overlaps or is cut mid-word, then
 * quits and sees the process end.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scenario } from './support.js';
import { TMUX_MISSING, Tmux, terminalEnv } from './tmux.js';
import { describeNeeds } from '../support/needs.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const CLI = join(ROOT, 'dist', 'cli.js');
const EXITED = /netdoctor-exited-(\d+)/;

const rootTitle = scenario('unplugged-pi').outcome.diagnosis.findings[0].title;
const flat = (screen: string) => screen.replace(/\s+/g, ' ');

describeNeeds(TMUX_MISSING, 'netdoctor demo in a terminal (tmux)', () => {
  const tmux = new Tmux();
  afterAll(() => tmux.kill());

  it('is built', () => {
    expect(existsSync(CLI), `${CLI} is missing: build first (npx tsc -p tsconfig.build.json)`).toBe(true);
  });

  it('replays the outage: spinners, then the rows, then the root cause with its symptoms', async () => {
    tmux.start(`node ${CLI} demo --speed 2; echo netdoctor-exited-$?; sleep 120`, 100, 30);
    const running = await tmux.waitFor((s) => s.includes('checking…'), 'the run to start', 20_000);
    expect(running).toContain('netdoctor · lab · eth0 · inside · demo: unplugged-pi');
    const screen = await tmux.waitFor((s) => s.includes(`› ✖ ${rootTitle}`), 'the root cause');
    expect(screen).toMatch(/✖ CRITICAL · last run \d\d:\d\d:\d\d, took 6s · auto-refresh off/);
    expect(screen).toMatch(/✖ DHCP +no server answered in 6s/);
    expect(screen).toMatch(/✖ Hosts +pi-dns missing · pi-vpn missing/);
    expect(screen).toMatch(/✔ Internet +gateway 192\.168\.1\.1/);
    expect(screen).toMatch(/✖ DNS +192\.168\.1\.10 silent/);
    expect(screen).toMatch(/↳ pi-dns is missing/);
    expect(screen).toMatch(/↳ Port forward UDP 1194 points at 192\.168\.1\.20/);
    expect(screen).toContain('↑↓ select  enter details  c copy fix  r re-run  a auto  ? help  q quit');
    // The screen fits the pane: the header is on the first row, the keys on the last used one.
    expect(screen.split('\n')[0]).toContain('netdoctor ·');
  });

  it('selects, expands, shows a fix as plain text, and helps', async () => {
    tmux.keys('j');
    await tmux.waitFor((s) => /› +↳ pi-dns is missing/.test(s), 'the first symptom selected');
    tmux.keys('k', 'Enter');
    const detail = await tmux.waitFor((s) => s.includes('CRITICAL · root cause'), 'the detail of the root cause');
    expect(flat(detail)).toContain('no DHCP server answered');
    expect(detail).toMatch(/Impact:/);
    tmux.keys('c');
    const copy = await tmux.waitFor((s) => s.includes('Fix 1 of'), 'the copy view');
    expect(copy).toContain("Turn the router's DHCP server back on");
    expect(copy).toMatch(/^1\. /m);
    expect(copy).not.toMatch(/[┌│└]/);
    tmux.keys('Escape');
    await tmux.waitFor((s) => s.includes('CRITICAL · root cause'), 'back in the detail');
    tmux.keys('Escape');
    await tmux.waitFor((s) => s.includes(`› ✖ ${rootTitle}`) && s.includes('DHCP '), 'back in the list');
    tmux.keys('?');
    const help = await tmux.waitFor((s) => s.includes('Keys') && s.includes('Marks'), 'the help');
    expect(help).toMatch(/r +run every probe again now/);
    tmux.keys('Escape');
    await tmux.waitFor((s) => s.includes(`› ✖ ${rootTitle}`), 'back in the list');
  });

  it('r replays the run: the previous findings stay while the probes spin again', async () => {
    tmux.keys('r');
    const again = await tmux.waitFor((s) => s.includes('checking…'), 'the re-run', 10_000);
    expect(again).toContain('re-running every probe');
    await tmux.waitFor((s) => s.includes('✖ CRITICAL · last run') && !s.includes('checking…'), 'the replay to finish');
  });

  it('at 60 columns: no line is longer than the pane, nothing overlaps, the title is whole', async () => {
    tmux.resize(60, 30);
    // -J joins what the terminal had to wrap: a line drawn wider than the pane shows up longer than 60.
    const fits = () => tmux.capture(true).split('\n').every((l) => l.length <= 60);
    // A whole frame: under load a capture can land while the redraw is still being written, header not yet there.
    const once = (s: string, re: RegExp) => s.match(re)?.length === 1;
    const screen = await tmux.waitFor(
      (s) => fits() && flat(s).includes(`› ✖ ${rootTitle}`) && once(s, /netdoctor ·/g) && once(s, /↑↓ select/g),
      'one whole redraw that fits 60 columns',
      10_000,
    );
    for (const line of tmux.capture(true).split('\n')) expect(line.length, line).toBeLessThanOrEqual(60);
    // One frame only: the 100-column one was cleared, not left beneath or beside the new one.
    expect(screen.match(/netdoctor ·/g)?.length).toBe(1);
    expect(screen.match(/↑↓ select/g)?.length).toBe(1);
    // The root cause reads the same, every word whole, wrapped only between words.
    expect(flat(screen)).toContain(`› ✖ ${rootTitle}`);
    const words = new Set(screen.split(/\s+/));
    for (const w of rootTitle.split(' ')) expect(words.has(w), `"${w}" whole on the screen`).toBe(true);
  });

  it('q ends the process promptly with exit 0', async () => {
    tmux.keys('q');
    const screen = await tmux.waitFor((s) => EXITED.test(s), 'netdoctor to exit', 10_000);
    expect(EXITED.exec(screen)![1]).toBe('0');
  });
});

/** Foreground colours among the SGR escapes of a styled capture (30-38, 90-97); attributes (bold 1, dim 2, inverse 7) are not colours. */
function colours(styled: string): string[] {
  const out: string[] = [];
  for (const m of styled.matchAll(/\u001B\[([0-9;]*)m/g)) {
    for (const p of m[1].split(';').map(Number)) if ((p >= 30 && p <= 38) || (p >= 90 && p <= 97)) out.push(String(p));
  }
  return out;
}

describeNeeds(TMUX_MISSING, 'colour in a terminal', () => {
  const sessions: Tmux[] = [];
  afterAll(() => sessions.forEach((t) => t.kill()));

  async function styledDemo(env: Record<string, string>): Promise<string> {
    const t = new Tmux();
    sessions.push(t);
    t.start(`node ${CLI} demo --speed 20; sleep 120`, 100, 30, terminalEnv(env));
    await t.waitFor((s) => s.includes(`› ✖ ${rootTitle}`), 'the root cause');
    return t.captureStyled();
  }

  it('paints marks and figures in the terminal\'s own named colours, never black, white or grey', async () => {
    const used = new Set(colours(await styledDemo({})));
    expect(used.has('31')).toBe(true); // red: critical
    expect(used.has('32')).toBe(true); // green: as it should be
    for (const c of ['30', '37', '90', '97', '38']) expect(used.has(c), `colour ${c}`).toBe(false);
  });

  it('with NO_COLOR: no colour at all, the selection still shown (inverse and ›)', async () => {
    const styled = await styledDemo({ NO_COLOR: '1' });
    expect(colours(styled)).toEqual([]);
    expect(styled).toMatch(/\u001B\[[0-9;]*7[0-9;]*m[^\n]*DHCP server missing/);
  });
});
