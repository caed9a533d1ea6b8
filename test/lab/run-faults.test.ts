/**
 * Faults during a run, in the lab:
 * - a DNS server that vanishes while our questions wait on it;
 * - a history disk that is read-only, or full (a tmpfs in a mount namespace
 *   of the check's own, gone when it exits): a clear warning, the report
 *   still printed, the exit code unchanged, the runs already stored intact;
 * - a Graphite server that accepts and then resets the connection: metrics
 *   spooled, exit code unchanged, delivered by the next run;
 * - SIGTERM/SIGINT during check: a prompt exit and no half-written run;
 * - SIGTERM/SIGINT to the terminal UI (the demo, and the live UI in the lab)
 *   under a private tmux: the terminal is given back sane (cursor shown, no
 *   alternate screen, not in raw mode).
 *
 * Every process these tests start is their own, stopped by its pid.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { BUILT_CLI } from '../../src/lab/guest.js';
import { sleep, waitFor } from '../../src/shared/wait.js';
import { checkReportSchema, rootKeys } from '../support/check-json.js';
import { describeLab, startInNode, type LabNode, type TestLab } from '../support/lab.js';
import { TMUX_MISSING, Tmux, terminalEnv } from '../tui/tmux.js';
import { describeNeeds } from '../support/needs.js';

const scratch = mkdtempSync(join(tmpdir(), 'nd-faults-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A command in a lab node, run from the scratch dir (where a relative history lands). */
const start = (lab: TestLab, node: LabNode, argv: string[]) => startInNode(lab, node, argv, { cwd: scratch });

/** The lab's config with some keys replaced, in a file anyone may read. */
function configWith(lab: TestLab, name: string, edit: (yaml: string) => string): string {
  const file = join(scratch, `${name}.yaml`);
  writeFileSync(file, edit(lab.configYaml()), { mode: 0o644 });
  return file;
}
const historyAt = (path: string) => (yaml: string) => yaml.replace(/^history:\n {2}path: .*$/m, `history:\n  path: ${path}`);

function historyFacts(path: string): { integrity: string; runs: number; emptyRuns: number } {
  const db = new Database(path, { readonly: true });
  try {
    return {
      integrity: String(db.pragma('integrity_check', { simple: true })),
      runs: (db.prepare('SELECT count(*) AS n FROM runs').get() as { n: number }).n,
      emptyRuns: (db.prepare('SELECT count(*) AS n FROM runs WHERE length(observations) = 0').get() as { n: number }).n,
    };
  } finally {
    db.close();
  }
}

const CHECK = (config: string, ...more: string[]) => [process.execPath, BUILT_CLI, 'check', '--json', '--config', config, ...more];

/** A JS program for `node -e`: a DNS server that takes questions and never answers, printing each it gets. */
const SILENT_DNS = `
import dgram from 'node:dgram';
const s = dgram.createSocket('udp4');
s.on('message', (m) => console.log('question ' + m.length));
s.bind(53, () => console.log('listening'));
setTimeout(() => process.exit(0), 60000);
`;

describeLab('faults during a run', (lab) => {
  it('the DNS server vanishes while questions wait on it: check ends by its deadline and names the server as down', async () => {
    await lab().fault('dns-down');
    try {
      const silent = start(lab(), 'pi-dns', [process.execPath, '--input-type=module', '-e', SILENT_DNS]);
      await waitFor('the silent DNS server to listen', () => silent.stdout().includes('listening'), { timeoutMs: 15_000, intervalMs: 50 });
      const config = configWith(lab(), 'vanish', (y) => y);
      const check = start(lab(), 'client', CHECK(config, '--no-history', '--deadline', '8s'));
      // Our questions are in its socket, unanswered: now it goes, as a server that crashes does.
      await waitFor('a question to reach the DNS server', () => silent.stdout().includes('question'), { timeoutMs: 15_000, intervalMs: 50 });
      process.kill(silent.child.pid!, 'SIGKILL');
      const r = await check.done;
      expect(r.ms).toBeLessThan(8_000 + 3_000);
      const json = checkReportSchema.parse(JSON.parse(r.stdout));
      expect(json.observations.filter((o) => o.reason === 'timeout' && o.check === 'probe')).toEqual([]);
      const queries = json.observations.filter((o) => o.probe === 'dns' && o.check === 'query' && o.labels.server === '192.168.1.10');
      expect(queries.length).toBeGreaterThan(0);
      expect(queries.filter((q) => q.status === 'ok')).toEqual([]);
      expect(rootKeys(json)).toContain('dns-server-down{server=192.168.1.10}');
      expect([r.code, json.status]).toEqual([2, 'critical']);
    } finally {
      await lab().heal();
    }
  }, 90_000);

  it('the history on a read-only file system: a clear warning, the report printed, the exit code unchanged', async () => {
    const mnt = join(scratch, 'ro');
    mkdirSync(mnt, { recursive: true });
    const existing = configWith(lab(), 'ro-existing', historyAt(join(mnt, 'kept', 'history.db')));
    const missing = configWith(lab(), 'ro-missing', historyAt(join(mnt, 'never', 'made', 'history.db')));
    const reference = await start(lab(), 'client', CHECK(existing, '--only', 'dns,wan', '--no-history')).done;
    const quote = (argv: string[]) => argv.map((a) => `'${a}'`).join(' ');
    // A tmpfs in a mount namespace of the checks' own (it vanishes with them): one run recorded, then the
    // file system goes read-only under the history, as a failing disk's does; then a history that was never made.
    const script = [
      `mount -t tmpfs -o size=1m tmpfs '${mnt}'`,
      `${quote(CHECK(existing, '--only', 'dns,wan'))} > /dev/null; echo "FIRST=$?"`,
      `mount -o remount,ro '${mnt}'`,
      `echo JSON-BEGIN; ${quote(CHECK(existing, '--only', 'dns,wan'))}; echo "JSON-END SECOND=$?"`,
      `${quote(CHECK(missing, '--only', 'dns,wan'))} > /dev/null; echo "THIRD=$?"`,
    ].join('\n');
    const r = await start(lab(), 'client', ['unshare', '-m', '--propagation', 'private', 'sh', '-c', script]).done;
    expect(r.stdout).toMatch(/^FIRST=0$/m);
    expect(r.stdout).toMatch(/^JSON-END SECOND=0$/m);
    expect(r.stdout).toMatch(/^THIRD=0$/m);
    expect(reference.code).toBe(0);
    const warnings = r.stderr.split('\n').filter((l) => l.startsWith('netdoctor: '));
    expect(warnings).toHaveLength(2);
    for (const w of warnings) expect(w).toMatch(new RegExp(`^netdoctor: the run was not recorded in the history: .* — the file system holding ${mnt}.* is read-only$`));
    expect(r.stderr).not.toMatch(/internal error/);
    const report = r.stdout.slice(r.stdout.indexOf('JSON-BEGIN') + 10, r.stdout.indexOf('JSON-END'));
    expect(checkReportSchema.parse(JSON.parse(report)).status).toBe('ok');
  }, 90_000);

  it('the history disk full: a clear warning, the same exit code, and the runs already stored survive whole', async () => {
    const mnt = join(scratch, 'full');
    mkdirSync(mnt, { recursive: true });
    const db = join(mnt, 'history.db');
    const config = configWith(lab(), 'full', historyAt(db));
    const check = CHECK(config, '--only', 'dns,wan').map((a) => `'${a}'`).join(' ');
    const facts = `${process.execPath} --input-type=module -e "
      import Database from 'better-sqlite3';
      const db = new Database('${db}', { readonly: true });
      console.log('FACTS ' + JSON.stringify({ integrity: db.pragma('integrity_check', { simple: true }), runs: db.prepare('SELECT count(*) AS n FROM runs').get().n }));
    "`;
    // In a private mount namespace: a 512 KiB tmpfs; one run recorded; the disk filled; a second run; then room again and a look.
    const script = [
      `mount -t tmpfs -o size=512k tmpfs '${mnt}'`,
      `${check} > /dev/null 2> '${scratch}/first.err'; echo "FIRST=$?"`,
      `dd if=/dev/zero of='${mnt}/filler' bs=4k 2>/dev/null; df -k '${mnt}' | tail -1`,
      `echo JSON-BEGIN; ${check}; echo "JSON-END SECOND=$?"`,
      `rm '${mnt}/filler'`,
      `cd '${join(BUILT_CLI, '..', '..')}' && ${facts}`,
    ].join('\n');
    const r = await start(lab(), 'client', ['unshare', '-m', '--propagation', 'private', 'sh', '-c', script]).done;
    expect(r.stdout).toMatch(/^FIRST=0$/m);
    expect(r.stdout).toMatch(/^JSON-END SECOND=0$/m);
    expect(r.stderr).toMatch(new RegExp(`^netdoctor: the run was not recorded in the history: .* — the disk holding ${mnt} is full \\(\\d+ bytes free\\)$`, 'm'));
    expect(r.stderr).not.toMatch(/internal error/);
    const report = r.stdout.slice(r.stdout.indexOf('JSON-BEGIN') + 10, r.stdout.indexOf('JSON-END'));
    expect(checkReportSchema.parse(JSON.parse(report)).status).toBe('ok');
    const got = JSON.parse(/^FACTS (.*)$/m.exec(r.stdout)![1]) as { integrity: string; runs: number };
    expect(got).toEqual({ integrity: 'ok', runs: 1 });
  }, 120_000);

  it('Graphite accepts, then resets the connection: the metrics are spooled, the exit code unchanged, the next run delivers them', async () => {
    const RESETTER = `
      import net from 'node:net';
      const srv = net.createServer((s) => s.resetAndDestroy());
      srv.listen(0, '127.0.0.1', () => console.log('port ' + srv.address().port));
      setTimeout(() => process.exit(0), 60000);
    `;
    const resetter = start(lab(), 'client', [process.execPath, '--input-type=module', '-e', RESETTER]);
    await waitFor('the resetting server to listen', () => /port \d+/.test(resetter.stdout()), { timeoutMs: 15_000, intervalMs: 50 });
    const port = Number(/port (\d+)/.exec(resetter.stdout())![1]);
    const db = join(scratch, 'graphite', 'history.db');
    const withGraphite = (p: number) => (y: string) => `${historyAt(db)(y)}graphite: { url: "tcp://127.0.0.1:${p}", prefix: nd.faults }\n`;
    const r = await start(lab(), 'client', CHECK(configWith(lab(), 'rst', withGraphite(port)), '--only', 'dns,wan')).done;
    process.kill(resetter.child.pid!, 'SIGKILL');
    expect(r.stderr).toMatch(/netdoctor: Graphite unreachable \(.*\); (\d+) metrics spooled for the next run/);
    const spooled = Number(/(\d+) metrics spooled/.exec(r.stderr)![1]);
    expect(spooled).toBeGreaterThan(5);
    expect(r.code).toBe(0);
    expect(checkReportSchema.parse(JSON.parse(r.stdout)).status).toBe('ok');
    const inSpool = () => {
      const h = new Database(db, { readonly: true });
      try {
        return (h.prepare('SELECT count(*) AS n FROM spool').get() as { n: number }).n;
      } finally {
        h.close();
      }
    };
    expect(inSpool()).toBe(spooled);

    // A carbon that listens again: the next run sends the spooled lines (their own timestamps) and its own.
    const COLLECTOR = `
      import net from 'node:net';
      let lines = 0;
      const srv = net.createServer((s) => { let buf = ''; s.on('data', (d) => (buf += d)); s.on('end', () => { lines += buf.split('\\n').filter(Boolean).length; console.log('lines ' + lines); s.end(); }); });
      srv.listen(0, '127.0.0.1', () => console.log('port ' + srv.address().port));
      setTimeout(() => process.exit(0), 60000);
    `;
    const collector = start(lab(), 'client', [process.execPath, '--input-type=module', '-e', COLLECTOR]);
    await waitFor('the collector to listen', () => /port \d+/.test(collector.stdout()), { timeoutMs: 15_000, intervalMs: 50 });
    const cport = Number(/port (\d+)/.exec(collector.stdout())![1]);
    const next = await start(lab(), 'client', CHECK(configWith(lab(), 'carbon', withGraphite(cport)), '--only', 'dns,wan')).done;
    await waitFor('the collector to count what it got', () => /lines \d+/.test(collector.stdout()), { timeoutMs: 5_000, intervalMs: 50 });
    process.kill(collector.child.pid!, 'SIGKILL');
    expect(next.stderr).not.toMatch(/Graphite/);
    expect(next.code).toBe(0);
    const delivered = Math.max(...[...collector.stdout().matchAll(/lines (\d+)/g)].map((m) => Number(m[1])));
    expect(delivered).toBeGreaterThanOrEqual(spooled * 2 - 2); // the spooled run and this run, about as many lines each
    expect(inSpool()).toBe(0);
  }, 90_000);

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} during check: it exits promptly, says nothing was recorded, and the history holds only whole runs`, async () => {
      const db = join(scratch, `signal-${signal}`, 'history.db');
      const config = configWith(lab(), `sig-${signal}`, historyAt(db));
      const whole = await start(lab(), 'client', CHECK(config)).done;
      expect(whole.code).toBe(0);
      expect(historyFacts(db)).toEqual({ integrity: 'ok', runs: 1, emptyRuns: 0 });

      for (let round = 0; round < 3; round++) {
        const check = start(lab(), 'client', CHECK(config));
        // Mid-run: the DHCP probe holds UDP port 68 while it waits (at least 4.5 s) for a second server;
        // once that socket is open the run has started and its signal handlers are in place.
        await waitFor('the check to hold its DHCP socket (the run has started)', async () => {
          const r = await lab().exec('client', ['ss', '-Huanp', 'sport = :68']);
          return r.stdout.includes(`pid=${check.child.pid},`);
        }, { timeoutMs: 30_000 });
        await sleep(round * 700);
        const sentAt = performance.now();
        process.kill(check.child.pid!, signal);
        const r = await check.done;
        expect(performance.now() - sentAt, 'exit after the signal').toBeLessThan(2000);
        expect(r.code).toBe(3);
        expect(r.stderr).toMatch(new RegExp(`netdoctor: interrupted \\(${signal}\\); nothing recorded`));
        expect(r.stdout).toBe('');
      }
      expect(historyFacts(db)).toEqual({ integrity: 'ok', runs: 1, emptyRuns: 0 });
    }, 90_000);
  }

  describeNeeds(TMUX_MISSING, 'the live UI under tmux', () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      it(`${signal} gives the terminal back sane`, async () => {
        const config = configWith(lab(), `tui-${signal}`, (y) => y);
        await signalUi(`ip netns exec ${lab().ns('client')} ${process.execPath} ${BUILT_CLI} --config ${config}`, signal, (s) => /dhcp/i.test(s) && /checking|answered|offer/i.test(s));
      }, 60_000);
    }
  });
});

/** The one child of `pid` (the UI the pane's shell started), from /proc: procps may not be installed. */
function childOf(pid: number): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Field 4 of /proc/PID/stat is the parent; the command name before it may hold spaces, so split after ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  throw new Error(`no child of ${pid}`);
}

/** The terminal as the shell finds it after the UI is gone: stty's flags, tmux's cursor and alternate-screen flags. */
async function signalUi(command: string, signal: NodeJS.Signals, drawn: (screen: string) => boolean): Promise<void> {
  const tmux = new Tmux();
  const socketArgs = ['-L', tmux.socket];
  try {
    const sttyFile = join(scratch, `stty-${tmux.socket}`);
    tmux.start(`${command}; echo "EXIT=$?"; stty -a > ${sttyFile}; echo STTY-DONE; sleep 60`, 100, 40, terminalEnv());
    await tmux.waitFor(drawn, 'the UI to draw');
    const shell = execFileSync('tmux', [...socketArgs, 'display', '-p', '-t', tmux.session, '#{pane_pid}'], { encoding: 'utf8' }).trim();
    const ui = childOf(Number(shell));
    expect(Number(ui)).toBeGreaterThan(0);
    const sentAt = Date.now();
    process.kill(Number(ui), signal);
    const screen = await tmux.waitFor((s) => s.includes('STTY-DONE'), 'the shell after the UI', 10_000);
    expect(Date.now() - sentAt, 'exit after the signal').toBeLessThan(3000);
    const stty = ` ${readFileSync(sttyFile, 'utf8').replace(/[\s;]+/g, ' ')} `;
    // Not in raw mode: canonical input, echo, signals from keys, output processing.
    for (const flag of ['icanon', 'echo', 'isig', 'opost', 'icrnl']) expect(stty, flag).toMatch(new RegExp(` ${flag} `));
    const flags = execFileSync('tmux', [...socketArgs, 'display', '-p', '-t', tmux.session, '#{cursor_flag} #{alternate_on}'], { encoding: 'utf8' }).trim();
    expect(flags, 'cursor shown, main screen').toBe('1 0');
    expect(screen).toMatch(/EXIT=\d+/);
  } finally {
    tmux.kill();
  }
}

describeNeeds(TMUX_MISSING, 'signals to the demo UI (no lab needed)', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('%s gives the terminal back sane', async (signal) => {
    await signalUi(`${process.execPath} ${BUILT_CLI} demo`, signal, (s) => s.includes('netdoctor ·'));
  }, 60_000);
});
