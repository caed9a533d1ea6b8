/**
 * `netdoctor report` on a long history: a synthetic year of one-minute runs
 * (525,600) written by the real history writer (History.recordRuns: each
 * run exactly as `check` stores it, 10,000 to a transaction), with an
 * outage every few days — the seed's unplugged Pis, a stale DDNS record, a
 * dead DNS server, a VPN down, the ISP down, a rogue DHCP server — some of
 * them flapping. Every healthy run has DDNS out of scope (not configured),
 * as on many real installations, so every run of the year counts as having
 * a "problem" and only the runs_outages index keeps the scan small.
 *
 * Then the built CLI (`node dist/cli.js report … --config <yaml>`), a fresh
 * process each time as a user runs it: `--list`, the last incident as
 * Markdown, the longest incident as HTML and as JSON. Time and peak RSS
 * (`/usr/bin/time -v`), medians over the runs; correct = the incidents and
 * roots found are the ones planted.
 *
 * The lab is not used: this reads a file. The generated year is kept in the
 * temp directory and reused while the generator's version is the same.
 *
 * Run alone: npx tsc -p tsconfig.build.json && npx tsc -p bench/tsconfig.json && node .bench-build/bench/report.js
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadScenario } from '../src/commands/diagnose.js';
import { diagnose } from '../src/diagnose/index.js';
import type { Observation } from '../src/probes/types.js';
import { History } from '../src/history/history.js';
import { findIncidents, type IncidentListDocument, type ReportDocument } from '../src/report/incident.js';
import { buildCheckReport, type CheckReport } from '../src/report/json.js';
import { median, type BenchFn, type BenchLab, type BenchRow, type BenchSection } from './types.js';

const GENERATOR_VERSION = 2;
const MINUTE = 60_000;
const YEAR_RUNS = 525_600;
const BATCH = 10_000;
const START = Date.parse('2025-01-01T00:00:00Z');

/** Outage kinds planted, with the root the engine names for each (fixtures/scenarios/<kind>/expected.json). */
const KINDS: Array<{ kind: string; root: string }> = [
  { kind: 'unplugged-pi', root: 'dhcp-server-missing' },
  { kind: 'ddns-stale', root: 'ddns-stale' },
  { kind: 'dns-down', root: 'dns-server-down' },
  { kind: 'vpn-down', root: 'vpn-service-down' },
  { kind: 'isp-down', root: 'wan-down' },
  { kind: 'rogue-dhcp', root: 'dhcp-unexpected-server' },
];

interface Planted {
  kind: string;
  root: string;
  /** Index of the first and last bad run. */
  first: number;
  last: number;
}

/** Small deterministic PRNG (mulberry32): the same year every time. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What each minute of the year is: 'healthy', or an outage kind. Outages 1–5 days apart, 5 min–6 h long (one of 3 days), a third of them flapping. */
export function plan(runs: number, seed = 2025): { minutes: string[]; planted: Planted[] } {
  const rand = prng(seed);
  const minutes: string[] = Array(runs).fill('healthy');
  const planted: Planted[] = [];
  let i = 1440 + Math.floor(rand() * 1440);
  let k = 0;
  while (i < runs - 400) {
    const { kind, root } = KINDS[k % KINDS.length];
    // Halfway through the year, one long outage: three days of the seed's unplugged Pis, flapping.
    const long = k === 60;
    k++;
    const length = long ? 3 * 1440 : 5 + Math.floor(rand() ** 2 * 355);
    const flapping = long || rand() < 0.33;
    for (let j = 0; j < length; j++) {
      // A flapping probe: now and then one healthy run inside the outage (never the first or last).
      minutes[i + j] = flapping && j > 0 && j < length - 1 && minutes[i + j - 1] !== 'healthy' && rand() < 0.15 ? 'healthy' : kind;
    }
    planted.push({ kind, root, first: i, last: i + length - 1 });
    i += length + 1440 + Math.floor(rand() * 4 * 1440);
  }
  return { minutes, planted };
}

/** One report per kind, diagnosed once by the real engine; runs reuse it with their own start time. */
function templates(): Map<string, CheckReport> {
  const out = new Map<string, CheckReport>();
  const make = (name: string, edit?: (o: Observation[]) => Observation[]) => {
    const s = loadScenario(name);
    const observations = edit ? edit(s.run.observations) : s.run.observations;
    return buildCheckReport('bench', s.config, { ...s.run, observations }, diagnose(observations, s.config));
  };
  // Healthy, with DDNS left out: an out-of-scope unknown in every healthy run.
  out.set('healthy', make('healthy', (o) => o.filter((x) => x.probe !== 'ddns')));
  for (const { kind } of KINDS) out.set(kind, make(kind));
  return out;
}

/** Writes the year with History.recordRuns; returns runs per second. */
function generate(path: string, minutes: readonly string[], log: (l: string) => void): number {
  const partial = `${path}.partial`;
  for (const f of [partial, `${partial}-wal`, `${partial}-shm`]) rmSync(f, { force: true });
  const tpl = templates();
  const h = History.open(partial);
  const t0 = performance.now();
  for (let b = 0; b < minutes.length; b += BATCH) {
    const batch: CheckReport[] = [];
    for (let i = b; i < Math.min(minutes.length, b + BATCH); i++) {
      batch.push({ ...tpl.get(minutes[i])!, startedAt: new Date(START + i * MINUTE).toISOString() });
    }
    h.recordRuns(batch);
    if ((b / BATCH) % 10 === 0) log(`report bench: generating the year, ${b + batch.length} of ${minutes.length} runs`);
  }
  const seconds = (performance.now() - t0) / 1000;
  h.db.pragma('wal_checkpoint(TRUNCATE)');
  h.close();
  renameSync(partial, path);
  return minutes.length / seconds;
}

interface Timed {
  ms: number;
  maxRssKb: number;
  code: number;
  stdout: string;
  stderr: string;
}

/** The built CLI, as a user runs it, under /usr/bin/time -v for the peak RSS. */
function cli(args: string[]): Timed {
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-v', process.execPath, resolve('dist/cli.js'), ...args], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const ms = performance.now() - t0;
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
  return { ms, maxRssKb: rss ? Number(rss[1]) : Number.NaN, code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;
const ms = (x: number) => (x < 10 ? `${x.toFixed(2)} ms` : `${Math.round(x)} ms`);

export async function benchReport(_lab?: BenchLab, opts: { runs?: number; log?: (line: string) => void; yearRuns?: number } = {}): Promise<BenchSection> {
  const log = opts.log ?? (() => {});
  const runs = Math.max(3, opts.runs ?? 5);
  const yearRuns = opts.yearRuns ?? YEAR_RUNS;
  if (!existsSync(resolve('dist/cli.js'))) throw new Error('dist/cli.js is missing: build first (npx tsc -p tsconfig.build.json)');
  const dir = join(tmpdir(), 'netdoctor-bench-report');
  mkdirSync(dir, { recursive: true });
  const db = join(dir, `year-v${GENERATOR_VERSION}-${yearRuns}.db`);
  const config = join(dir, 'netdoctor.yaml');
  writeFileSync(config, `site: bench\nhistory:\n  path: ${db}\n`);

  const { minutes, planted } = plan(yearRuns);
  const figures: BenchSection['figures'] = [];
  const notes: string[] = [];
  if (existsSync(db)) {
    notes.push(`The synthetic year was reused from ${db} (written earlier by this generator, version ${GENERATOR_VERSION}).`);
  } else {
    log(`report bench: writing a synthetic year of ${yearRuns} runs to ${db}`);
    const perSecond = generate(db, minutes, log);
    figures.push({ name: 'writing the year with History.recordRuns (10,000 runs a transaction)', value: `${Math.round(perSecond).toLocaleString('en-US')} runs/s` });
  }
  figures.push({ name: 'history file', value: `${(statSync(db).size / 1024 / 1024).toFixed(0)} MB, ${yearRuns.toLocaleString('en-US')} runs, ${planted.length} outages planted (${planted.reduce((n, p) => n + p.last - p.first + 1, 0).toLocaleString('en-US')} minutes)` });

  const rows: BenchRow[] = [];
  // What no report can beat: the CLI starting and printing its version.
  const startup = Array.from({ length: runs }, () => cli(['--version']));
  rows.push({ scenario: 'baseline: node start-up (netdoctor --version)', tool: 'netdoctor --version', samplesMs: startup.map((s) => s.ms), correct: startup.every((s) => s.code === 0), note: `peak RSS ${mb(median(startup.map((s) => s.maxRssKb)))}` });
  figures.push({ name: 'baseline, netdoctor --version: median time / peak RSS', value: `${ms(median(startup.map((s) => s.ms)))} / ${mb(median(startup.map((s) => s.maxRssKb)))}` });
  const measure = (scenario: string, args: string[], check: (t: Timed) => boolean, note?: string) => {
    const samples: Timed[] = [];
    for (let i = 0; i < runs; i++) samples.push(cli([...args, '--config', config]));
    const correct = samples.every((s) => s.code === 0 && check(s));
    const rss = median(samples.map((s) => s.maxRssKb));
    rows.push({ scenario, tool: `netdoctor ${args.join(' ')}`, samplesMs: samples.map((s) => s.ms), correct, note: `peak RSS ${mb(rss)}${note ? `; ${note}` : ''}${correct ? '' : `; exit ${samples[0].code}: ${samples[0].stderr.slice(0, 300)}`}` });
    figures.push({ name: `${scenario}: median time / peak RSS`, value: `${ms(median(samples.map((s) => s.ms)))} / ${mb(rss)}` });
    log(`report bench: ${scenario}: ${ms(median(samples.map((s) => s.ms)))}, ${mb(rss)}`);
    return samples[0];
  };

  const startOf = (p: Planted) => new Date(START + p.first * MINUTE).toISOString();
  const listCheck = (t: Timed) => {
    const doc = JSON.parse(t.stdout) as IncidentListDocument;
    return doc.incidents.length === planted.length && doc.incidents.every((i, n) => i.startedAt === startOf(planted[n]) && i.roots[0]?.id === planted[n].root);
  };
  const list = measure('list every incident of the year', ['report', '--list', '--format', 'json'], listCheck);
  const ids = (JSON.parse(list.stdout) as IncidentListDocument).incidents;
  measure('list every incident of the year (Markdown)', ['report', '--list'], (t) => t.stdout.includes(`# Incidents: ${planted.length}`));

  const lastPlanted = planted[planted.length - 1];
  measure('report on the last incident (Markdown)', ['report', '--last'], (t) => t.stdout.startsWith('# Incident ') && t.stdout.includes('## Open questions'), `${lastPlanted.kind}, ${lastPlanted.last - lastPlanted.first + 1} min`);

  const longest = planted.reduce((a, b) => (b.last - b.first > a.last - a.first ? b : a));
  const longestId = ids[planted.indexOf(longest)]?.id;
  const reportCheck = (t: Timed) => {
    const doc = JSON.parse(t.stdout) as ReportDocument;
    const r = doc.incidents[0];
    return r.incident.startedAt === startOf(longest) && r.findings[0]?.role === 'root' && r.findings[0].id === longest.root;
  };
  const note = `${longest.kind}, ${longest.last - longest.first + 1} one-minute runs`;
  measure('report on the longest incident (JSON)', ['report', '--incident', String(longestId), '--format', 'json'], reportCheck, note);
  measure('report on the longest incident (HTML)', ['report', '--incident', String(longestId), '--format', 'html'], (t) => t.stdout.includes('<svg ') && t.stdout.endsWith('</html>\n'), note);

  // In-process, what the index buys: the same scan through runs_problems alone, where every run of this year counts.
  const copy = join(dir, 'without-runs_outages.db');
  copyFileSync(db, copy);
  const raw = History.open(copy);
  raw.db.exec('DROP INDEX runs_outages');
  raw.db.pragma('user_version = 2');
  raw.close();
  const withIndex = History.open(db, { readonly: true });
  const without = History.open(copy, { readonly: true });
  const scan = (h: History) => {
    const samples: number[] = [];
    let n = 0;
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      n = findIncidents(h).length;
      samples.push(performance.now() - t0);
    }
    return { samples, n };
  };
  const a = scan(withIndex);
  const b = scan(without);
  rows.push({ scenario: 'find the incidents (in-process), through runs_outages', tool: 'findIncidents', samplesMs: a.samples, correct: a.n === planted.length });
  rows.push({ scenario: 'find the incidents (in-process), through runs_problems only', tool: 'findIncidents', samplesMs: b.samples, correct: b.n === planted.length, note: 'every run has an out-of-scope unknown here, so the partial index on problems > 0 holds all of them' });
  figures.push({ name: 'finding the incidents: runs_outages vs runs_problems only', value: `${ms(median(a.samples))} vs ${ms(median(b.samples))} (${(median(b.samples) / median(a.samples)).toFixed(0)}× slower without)` });
  withIndex.close();
  without.close();

  // The one-time migration that adds runs_outages to a year-old history.
  const copy2 = join(dir, 'migrate.db');
  copyFileSync(copy, copy2);
  const t0 = performance.now();
  History.open(copy2).close();
  figures.push({ name: 'migrating a year-old history to the runs_outages index (once, on first open)', value: ms(performance.now() - t0) });
  for (const f of [copy, copy2]) for (const s of ['', '-wal', '-shm']) rmSync(f + s, { force: true });

  notes.push(
    'Each CLI sample is a fresh `node dist/cli.js` process (start-up, config, opening the history included), under /usr/bin/time -v for the peak RSS.',
    `Correct: --list finds exactly the ${planted.length} planted outages (flaps merged), each with its start minute and the root the engine names for its kind; the reports start at the planted minute and name that root first.`,
    'Finding incidents reads only the runs judged critical or warning (covering partial index runs_outages) and, between consecutive bad runs, counts at most quietRuns healthy runs; a report reads the findings of its incident and the observations of at most 600 of its runs.',
  );
  return { title: 'Post-incident reports on a year of history', rows, figures, notes };
}

export const reportBench: BenchFn = (lab, { runs, log }) => benchReport(lab, { runs, log });

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const section = await benchReport(undefined, { log: (l) => console.error(l), runs: Number(process.env.RUNS ?? 5), yearRuns: process.env.YEAR_RUNS ? Number(process.env.YEAR_RUNS) : undefined });
  for (const row of section.rows) console.log(`${row.scenario}: median ${ms(median(row.samplesMs))}, correct ${row.correct}${row.note ? ` (${row.note})` : ''}`);
  for (const f of section.figures ?? []) console.log(`${f.name}: ${f.value}`);
  for (const n of section.notes ?? []) console.log(`note: ${n}`);
}
