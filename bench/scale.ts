/**
 * Cost curves on the scale lab (src/lab/scale.ts): time to a hosts verdict,
 * peak RSS and CPU for N live devices on a /22, beside `nmap -sn` on the same
 * network in the same run; the DNS probe with 50 inventory hosts; the whole
 * check; then a soak of back-to-back check runs with a fault coming and going.
 * Builds its own scale lab (prefix `bsc`), so it needs no shared lab.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { BUILT_CLI } from '../src/lab/guest.js';
import { SCALE, ScaleLab } from '../src/lab/scale.js';
import { run } from '../src/lab/sys.js';
import type { BenchFn, BenchRow, BenchSection } from './types.js';
import { median } from './types.js';

const PREFIX = 'bsc';
const SIZES = [10, 100, 250, 1000];
const SOAK_RUNS = Number(process.env.NETDOCTOR_SOAK_RUNS ?? 150);

interface Measured {
  wallMs: number;
  rssKb: number;
  cpuS: number;
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs argv inside the client namespace under GNU time: wall, peak RSS, user+system CPU. */
async function measured(lab: ScaleLab, argv: string[]): Promise<Measured> {
  const t0 = performance.now();
  const r = await run(['ip', 'netns', 'exec', lab.client, '/usr/bin/time', '-f', 'TIME %M %U %S', ...argv], { timeoutMs: 120_000 });
  const wallMs = performance.now() - t0;
  // GNU time adds "Command exited with non-zero status N" of its own: not netdoctor's stderr.
  const lines = r.stderr.trimEnd().split('\n').filter((l) => !/^Command exited with non-zero status \d+$/.test(l));
  const m = /^TIME (\d+) ([\d.]+) ([\d.]+)$/.exec(lines.at(-1) ?? '');
  return { wallMs, rssKb: m ? Number(m[1]) : NaN, cpuS: m ? Number(m[2]) + Number(m[3]) : NaN, code: r.code, stdout: r.stdout, stderr: (m ? lines.slice(0, -1) : lines).join('\n') };
}

const nd = (config: string, args: string[]) => [process.execPath, BUILT_CLI, 'check', '--config', config, ...args];

export const scaleBench: BenchFn = async (_lab, { runs, log }) => {
  const rows: BenchRow[] = [];
  const figures: Array<{ name: string; value: string }> = [];
  const notes: string[] = [];
  const curve: string[] = ['| N live | hosts verdict (ms, median) | sweep (ms) | peak RSS (MB) | CPU (s) | nmap -sn (ms) | nmap found | DNS probe (ms) | whole check (ms) | stderr |', '|---|---|---|---|---|---|---|---|---|---|'];
  let lab: ScaleLab | undefined;
  try {
    for (const n of SIZES) {
      log(`scale: ${n} devices`);
      lab = await ScaleLab.up(PREFIX, { devices: n });
      const config = lab.configPath();
      const hosts: Measured[] = [];
      const sweeps: number[] = [];
      let stderrClean = true;
      let allFound = true;
      for (let i = 0; i < runs; i++) {
        const m = await measured(lab, nd(config, ['--only', 'hosts', '--json']));
        hosts.push(m);
        if (m.stderr !== '') stderrClean = false;
        const obs = (JSON.parse(m.stdout) as { observations: Array<{ check: string; reason: string; values: Record<string, number> }> }).observations;
        const sweep = obs.find((o) => o.check === 'sweep');
        sweeps.push(sweep?.values.sweep_ms ?? NaN);
        if (sweep?.values.alive !== n || obs.some((o) => o.check === 'host' && o.reason !== 'at-expected')) allFound = false;
      }
      rows.push({ scenario: `hosts verdict, /22 with ${n} live`, tool: 'netdoctor check --only hosts', samplesMs: hosts.map((h) => h.wallMs), correct: allFound });
      const nmaps: number[] = [];
      let nmapFound = NaN;
      for (let i = 0; i < 1; i++) {
        const t0 = performance.now();
        const r = await lab.exec(['nmap', '-sn', '-n', SCALE.subnet], { timeoutMs: 120_000 });
        nmaps.push(performance.now() - t0);
        nmapFound = Number(/\((\d+) hosts? up\)/.exec(r.stdout)?.[1] ?? NaN);
      }
      rows.push({ scenario: `hosts verdict, /22 with ${n} live`, tool: 'nmap -sn', samplesMs: nmaps, correct: nmapFound === n + 1, note: `found ${nmapFound}: the ${n} devices and the scanning host` });
      const dns: number[] = [];
      const whole: number[] = [];
      for (let i = 0; i < runs; i++) {
        const d = await measured(lab, nd(config, ['--only', 'dns']));
        dns.push(d.wallMs);
        const w = await measured(lab, nd(config, []));
        whole.push(w.wallMs);
        if (d.stderr !== '' || w.stderr !== '') stderrClean = false;
      }
      rows.push({ scenario: `DNS probe, 2 servers, ${Math.min(n, 50)} inventory hosts (PTR each)`, tool: 'netdoctor check --only dns', samplesMs: dns, correct: null });
      rows.push({ scenario: `whole check, /22 with ${n} live`, tool: 'netdoctor check', samplesMs: whole, correct: null });
      const mb = (kb: number) => (kb / 1024).toFixed(0);
      curve.push(`| ${n} | ${median(hosts.map((h) => h.wallMs)).toFixed(0)} | ${median(sweeps).toFixed(0)} | ${mb(Math.max(...hosts.map((h) => h.rssKb)))} | ${median(hosts.map((h) => h.cpuS)).toFixed(2)} | ${median(nmaps).toFixed(0)} | ${nmapFound} | ${median(dns).toFixed(0)} | ${median(whole).toFixed(0)} | ${stderrClean ? 'empty' : 'NOT EMPTY'} |`);
      if (n === 250) {
        // The /24 figure the target compares with: the same lab, the config narrowed to the first /24 (254 live).
        const narrow = lab.configPath('10.44.0.0/24');
        const m24: number[] = [];
        for (let i = 0; i < runs; i++) m24.push((await measured(lab, nd(narrow, ['--only', 'hosts']))).wallMs);
        figures.push({ name: 'hosts verdict, /24 with 250 live (median)', value: `${median(m24).toFixed(0)} ms` });
      }
      if (n !== SIZES.at(-1)) await lab.down();
    }
    if (lab) figures.push(...(await soak(lab, log)));
  } finally {
    await lab?.down();
  }
  notes.push(...curve);
  return { title: 'Scale: a /22 with N live devices (scale lab)', rows, figures, notes } satisfies BenchSection;
};

/**
 * Back-to-back `check --only hosts,dns` runs (an accelerated interval: none) against the 1,000-device lab
 * with one inventory device unplugged every 10th run and back the next: peak RSS per run (slope by least
 * squares), stderr, every run in the history file.
 */
async function soak(lab: ScaleLab, log: (line: string) => void): Promise<Array<{ name: string; value: string }>> {
  const config = lab.configPath();
  const rss: number[] = [];
  let stderrRuns = 0;
  let failed = 0;
  const disagreed: string[] = [];
  const victim = 'd7';
  const t0 = Date.now();
  for (let i = 0; i < SOAK_RUNS; i++) {
    const unplug = i % 10 === 9;
    if (unplug) await run(['ip', '-n', lab.devicesNs, 'link', 'set', victim, 'down']);
    const m = await measured(lab, nd(config, ['--only', 'hosts,dns', '--quiet']));
    if (unplug) await run(['ip', '-n', lab.devicesNs, 'link', 'set', victim, 'up']);
    rss.push(m.rssKb);
    if (m.stderr !== '') stderrRuns++;
    if (unplug ? m.code === 0 : m.code !== 0) {
      failed++;
      disagreed.push(`run ${i + 1}${unplug ? ' (unplugged)' : ''}: exit ${m.code}`);
    }
    if (i % 50 === 0) log(`soak: run ${i + 1}/${SOAK_RUNS}, ${m.rssKb} KB`);
  }
  const minutes = (Date.now() - t0) / 60_000;
  const history = join(lab.stateDir, 'history.db');
  return [
    { name: 'soak runs (hosts,dns, 1,000 devices, a device unplugged every 10th run)', value: `${SOAK_RUNS} in ${minutes.toFixed(1)} min` },
    { name: 'soak peak RSS per run: first, last, slope', value: `${(rss[0] / 1024).toFixed(0)} MB, ${(rss.at(-1)! / 1024).toFixed(0)} MB, ${slope(rss).toFixed(2)} KB/run` },
    { name: 'soak runs with anything on stderr', value: String(stderrRuns) },
    { name: 'soak runs whose exit code disagreed with the fault', value: `${failed}${disagreed.length ? ` (${disagreed.slice(0, 5).join('; ')})` : ''}` },
    { name: 'soak history file', value: `${(statSync(history).size / 1024).toFixed(0)} KB after ${SOAK_RUNS} runs` },
  ];
}

/** Least-squares slope of ys against their index. */
function slope(ys: number[]): number {
  const n = ys.length;
  const mx = (n - 1) / 2;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  ys.forEach((y, x) => {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  });
  return den ? num / den : 0;
}
