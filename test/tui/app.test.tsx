/**
 * The UI rendered by ink (ink-testing-library): frames while the probes run,
 * on a healthy network and in the seed's outage; keys through stdin — select,
 * expand, copy, re-run, quit — and what quitting leaves behind: nothing.
 */
import { render as inkRender } from 'ink';
import { render } from 'ink-testing-library';
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { PROBE_NAMES, type RunEvent } from '../../src/probes/types.js';
import { sleep } from '../../src/shared/wait.js';
import { App } from '../../src/report/tui/app.js';
import { replaySource } from '../../src/report/tui/source.js';
import { colorWanted } from '../../src/report/color.js';
import { HeldSource, scenario } from './support.js';

const KEY = { down: '\u001B[B', up: '\u001B[A', right: '\u001B[C', enter: '\r', escape: '\u001B' };
const SIZE = { columns: 100, rows: 30 };
const info = { site: 'home', iface: 'eth0', vantage: 'inside' as const };
const unplugged = scenario('unplugged-pi');
const healthy = scenario('healthy');

const strip = (s: string | undefined) => (s ?? '').replace(/\u001B\[[0-9;]*m/g, '');
// The test's own waits (sleep) use node:timers/promises, not globalThis.setTimeout, so the leak check below does not count them.

/** Waits until the frame satisfies `ok` (ink draws after React commits, a tick or two later). */
async function frameWhere(lastFrame: () => string | undefined, ok: (frame: string) => boolean, what: string): Promise<string> {
  // A generous ceiling: two busy cores may hold a render back for seconds.
  for (const end = performance.now() + 10_000; performance.now() < end; ) {
    const f = strip(lastFrame());
    if (ok(f)) return f;
    await sleep(10);
  }
  throw new Error(`no frame ${what}; last frame:\n${strip(lastFrame())}`);
}

const started: Array<{ unmount: () => void }> = [];
afterEach(() => {
  for (const s of started.splice(0)) s.unmount();
});

function show(source: HeldSource | ReturnType<typeof replaySource>, extra: Partial<Parameters<typeof App>[0]> = {}) {
  const r = render(<App source={source} info={info} refreshMs={30_000} color={false} size={SIZE} {...extra} />);
  started.push(r);
  return r;
}

const openRun = (held: HeldSource, ...events: RunEvent[]) =>
  held.emit({ type: 'run-start', at: new Date().toISOString(), probes: [...PROBE_NAMES], deadline: 0 }, ...PROBE_NAMES.map((probe): RunEvent => ({ type: 'probe-start', probe, at: '' })), ...events);

describe('frames', () => {
  it('running: a spinner per probe, results as they arrive, the pane waiting for the diagnosis', async () => {
    const held = new HeldSource();
    const { lastFrame } = show(held);
    await frameWhere(lastFrame, (f) => f.includes('checking…'), 'with a run');
    await held.untilRuns(1);
    const hosts = unplugged.run.observations.filter((o) => o.probe === 'hosts');
    openRun(held, ...hosts.map((observation): RunEvent => ({ type: 'observation', observation })), { type: 'probe-end', probe: 'hosts', outcome: 'done', durationMs: 900 });
    const f = await frameWhere(lastFrame, (x) => x.includes('pi-vpn missing'), 'with the hosts row');
    expect(f).toContain('netdoctor · home · eth0 · inside');
    expect(f).toContain('checking… 1/7 probes done');
    expect(f).toMatch(/✖ Hosts +pi-dns missing · pi-vpn missing · \d+ up on 192\.168\.1\.0\/24/);
    // The others still spin (dots spinner frames are braille characters).
    expect(f).toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] DHCP +checking…/);
    expect(f).toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] DNS +checking…/);
    expect(f).toContain('Checking… the root cause, if there is one, appears here once every probe has finished.');
    expect(f).toMatch(/↑↓ select +enter details +c copy fix +r re-run +a auto +\? help +q quit/);
  });

  it('healthy: OK, every probe ticked, nothing wrong found', async () => {
    const held = new HeldSource();
    const { lastFrame } = show(held);
    await frameWhere(lastFrame, (f) => f.includes('checking…'), 'with a run');
    await held.untilRuns(1);
    openRun(held, ...healthy.run.observations.map((observation): RunEvent => ({ type: 'observation', observation })));
    held.finish(healthy.outcome);
    const f = await frameWhere(lastFrame, (x) => x.includes('Nothing wrong found'), 'healthy');
    expect(f).toMatch(/✔ OK · last run \d\d:\d\d:\d\d, took [\d.]+s · auto-refresh off/);
    for (const label of ['DHCP', 'Hosts', 'Internet', 'DNS', 'VPN', 'DDNS']) expect(f).toMatch(new RegExp(`✔ ${label} `));
    expect(f).toContain('pi-dns at 192.168.1.10 · pi-vpn at 192.168.1.20');
    expect(f).toMatch(/✔ Nothing wrong found: \d+ checks passed/);
    expect(f).not.toContain('›');
  });

  it('unplugged-pi (replayed): CRITICAL, the missing DHCP server as the root cause, its symptoms folded beneath', async () => {
    const { lastFrame } = show(replaySource(unplugged.outcome, { speed: 50 }));
    const f = await frameWhere(lastFrame, (x) => x.includes('CRITICAL'), 'with the diagnosis');
    expect(f).toContain('✖ CRITICAL');
    expect(f).toContain('1 root cause, 4 symptoms it explains (↳)');
    expect(f).toContain('› ✖ DHCP server missing on eth0: nobody answered in');
    const lines = f.split('\n');
    const root = lines.findIndex((l) => l.includes('› ✖ DHCP server missing'));
    expect(lines[root + 1]).toMatch(/^ {4}↳ pi-dns is missing/);
    expect(lines[root + 2]).toMatch(/^ {6}↳ DNS server 192\.168\.1\.10 \(pi-dns\) is silent/);
    expect(lines[root + 3]).toMatch(/^ {4}↳ pi-vpn is missing/);
    expect(lines[root + 4]).toMatch(/^ {6}↳ Port forward UDP 1194/);
    expect(f).toMatch(/✖ DHCP +no server answered/);
    expect(f.split('\n').length).toBeLessThanOrEqual(SIZE.rows - 1);
  });
});

describe('keys', () => {
  it('select, expand, copy, back', async () => {
    const { lastFrame, stdin } = show(replaySource(unplugged.outcome, { speed: 50 }));
    await frameWhere(lastFrame, (x) => x.includes('› ✖ DHCP server missing'), 'with the diagnosis');
    stdin.write(KEY.down);
    await frameWhere(lastFrame, (x) => /› +↳ pi-dns is missing/.test(x), 'with the first symptom selected');
    stdin.write('k');
    await frameWhere(lastFrame, (x) => x.includes('› ✖ DHCP server missing'), 'with the root selected again');
    stdin.write(KEY.enter);
    const detail = await frameWhere(lastFrame, (x) => x.includes('CRITICAL · root cause'), 'with the detail');
    expect(detail).toContain('netdoctor broadcast a DHCP discover');
    expect(detail).toMatch(/↑↓ scroll 1–\d+ of \d+/);
    stdin.write('c');
    const copy = await frameWhere(lastFrame, (x) => x.includes('Fix 1 of'), 'with the copy view');
    expect(copy).toContain("Turn the router's DHCP server back on");
    expect(copy).not.toMatch(/[┌│└]/);
    stdin.write(KEY.right);
    await frameWhere(lastFrame, (x) => x.includes('Fix 2 of'), 'with the second fix');
    stdin.write(KEY.escape);
    await frameWhere(lastFrame, (x) => x.includes('CRITICAL · root cause'), 'back in the detail');
    stdin.write(KEY.enter);
    await frameWhere(lastFrame, (x) => x.includes('› ✖ DHCP server missing') && x.includes('DHCP     '), 'back in the list');
  });

  it('r re-runs: spinners again, the previous findings kept until the new diagnosis', async () => {
    const held = new HeldSource();
    const { lastFrame, stdin } = show(held);
    await frameWhere(lastFrame, (f) => f.includes('checking…'), 'with a run');
    await held.untilRuns(1);
    openRun(held);
    held.finish(unplugged.outcome);
    await frameWhere(lastFrame, (x) => x.includes('› ✖ DHCP server missing'), 'with the diagnosis');
    stdin.write('r');
    const again = await frameWhere(lastFrame, (x) => x.includes('checking… 0/7'), 'checking again');
    await held.untilRuns(2);
    expect(held.runs).toBe(2);
    expect(again).toContain('(from the previous run; checking again)');
    expect(again).toContain('› ✖ DHCP server missing');
    expect(again).toContain('re-running every probe');
    stdin.write('r');
    await frameWhere(lastFrame, (x) => x.includes('a run is already in progress'), 'refusing a second run');
    expect(held.runs).toBe(2);
    openRun(held);
    held.finish(healthy.outcome);
    await frameWhere(lastFrame, (x) => x.includes('Nothing wrong found'), 'with the new diagnosis');
  });

  it('q quits: the running probes are aborted through the runner signal', async () => {
    const held = new HeldSource();
    const { lastFrame, stdin } = show(held);
    await frameWhere(lastFrame, (f) => f.includes('checking…'), 'with a run');
    await held.untilRuns(1);
    openRun(held);
    stdin.write('q');
    for (const end = performance.now() + 10_000; performance.now() < end && !held.signals[0].aborted; ) await sleep(10);
    expect(held.signals[0].aborted).toBe(true);
    expect(String((held.signals[0].reason as Error).message)).toMatch(/UI stopped/);
  });

  it('the first-run screen waits, says what the machine knows, and starts on enter', async () => {
    const held = new HeldSource();
    const firstRun = { iface: 'eth0', address: '192.168.1.50/24', gateway: '192.168.1.1', resolvers: ['192.168.1.10'], searched: ['./netdoctor.yaml'] };
    const { lastFrame, stdin } = show(held, { firstRun });
    const f = await frameWhere(lastFrame, (x) => x.includes('No netdoctor.yaml yet'), 'first run');
    expect(f).toMatch(/Interface +eth0 +192\.168\.1\.50\/24/);
    expect(f).toMatch(/Gateway +192\.168\.1\.1/);
    expect(f).toMatch(/Resolvers +192\.168\.1\.10/);
    expect(f).toContain('nothing was sent');
    expect(f).toMatch(/i +write a starter netdoctor\.yaml/);
    await sleep(50);
    expect(held.runs).toBe(0);
    stdin.write(KEY.enter);
    await frameWhere(lastFrame, (x) => x.includes('checking…'), 'checking');
    await held.untilRuns(1); // "checking…" is drawn before the source's run() is called
    expect(held.runs).toBe(1);
  });
});

describe('leaving nothing behind', () => {
  /** Streams like a terminal's, with no timers or handles of their own. */
  class FakeTty extends EventEmitter {
    isTTY = true;
    columns = 100;
    rows = 30;
    data: string[] = [];
    write = (s: string) => {
      this.data.push(s);
      return true;
    };
    setRawMode() {}
    setEncoding() {}
    resume() {}
    pause() {}
    ref() {}
    unref() {}
    private queued: string | null = null;
    type(s: string) {
      this.queued = s;
      this.emit('readable');
    }
    read() {
      const q = this.queued;
      this.queued = null;
      return q;
    }
  }

  /**
   * Every timer and interval created while the UI runs, minus those that
   * fired (timeouts) or were cleared: what would keep a process alive.
   */
  function trackTimers() {
    const real = { setTimeout, clearTimeout, setInterval, clearInterval };
    const live = new Map<unknown, string>();
    const g = globalThis as unknown as Record<string, unknown>;
    g.setTimeout = (fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
      const h = real.setTimeout(() => {
        live.delete(h);
        fn(...args);
      }, ms);
      live.set(h, `setTimeout ${ms}ms`);
      return h;
    };
    g.clearTimeout = (h: NodeJS.Timeout) => {
      live.delete(h);
      real.clearTimeout(h);
    };
    g.setInterval = (fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
      const h = real.setInterval(fn, ms, ...args);
      live.set(h, `setInterval ${ms}ms`);
      return h;
    };
    g.clearInterval = (h: NodeJS.Timeout) => {
      live.delete(h);
      real.clearInterval(h);
    };
    return {
      live: () => [...live.values()],
      restore: () => Object.assign(g, real),
    };
  }

  /** Starts the app, waits until its live timers satisfy `ready` (10 s ceiling), presses q and checks none are left. */
  async function quitLeavesNothing(speed: number, ready: (live: string[]) => boolean): Promise<{ output: string; whileRunning: string[] }> {
    const timers = trackTimers();
    try {
      const stdout = new FakeTty();
      const stdin = new FakeTty();
      const instance = inkRender(<App source={replaySource(unplugged.outcome, { speed })} info={info} refreshMs={60_000} auto color={false} />, {
        stdout: stdout as unknown as NodeJS.WriteStream,
        stdin: stdin as unknown as NodeJS.ReadStream,
        exitOnCtrlC: false,
        patchConsole: false,
      });
      for (const end = performance.now() + 10_000; performance.now() < end && !ready(timers.live()); ) await sleep(10);
      const whileRunning = timers.live();
      stdin.type('q');
      const reason = await Promise.race([instance.waitUntilExit(), sleep(10_000).then(() => 'timeout')]);
      expect(reason).toBe('quit');
      // ink's own render throttle may still be due (it fires within a frame, 33 ms): wait for it to go, a leak never does.
      for (const end = performance.now() + 5_000; performance.now() < end && timers.live().length > 0; ) await sleep(10);
      expect(timers.live()).toEqual([]);
      return { output: stdout.data.join(''), whileRunning };
    } finally {
      timers.restore();
    }
  }

  it('q while the probes run: spinners and the replay are stopped, the exit promise resolves', async () => {
    const { whileRunning } = await quitLeavesNothing(0.5, (live) => live.includes('setInterval 80ms') && live.some((t) => t.startsWith('setTimeout')));
    expect(whileRunning).toContain('setInterval 80ms'); // the dots spinner
    expect(whileRunning.some((t) => t.startsWith('setTimeout'))).toBe(true); // the replay's next step
  });

  it('q after a finished run: the armed auto-refresh timer is cleared too', async () => {
    const armed = (live: string[]) => live.some((t) => /^setTimeout (59|60)\d{3}ms$/.test(t));
    const { output, whileRunning } = await quitLeavesNothing(100, armed);
    expect(strip(output)).toContain('auto-refresh every 1m, next');
    expect(armed(whileRunning)).toBe(true);
  });
});

describe('colour', () => {
  it('is off with NO_COLOR set to anything, with TERM=dumb and off a terminal, on otherwise', () => {
    const tty = { isTTY: true };
    expect(colorWanted(tty, { TERM: 'xterm-256color' })).toBe(true);
    expect(colorWanted(tty, { TERM: 'xterm-256color', NO_COLOR: '1' })).toBe(false);
    expect(colorWanted(tty, { TERM: 'xterm-256color', NO_COLOR: '' })).toBe(true);
    expect(colorWanted(tty, { TERM: 'dumb' })).toBe(false);
    expect(colorWanted({ isTTY: false }, { TERM: 'xterm-256color' })).toBe(false);
    expect(colorWanted({}, { TERM: 'xterm-256color' })).toBe(false);
  });
});
