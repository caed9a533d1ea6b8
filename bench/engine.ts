/**
 * Engine throughput: how many diagnoses per second, and how long one takes,
 * on the seed's outage (fixtures/scenarios/unplugged-pi) — the run the TUI
 * re-diagnoses on every observation and `check` once per run. No lab and no
 * network: the engine is pure, so this measures the engine alone.
 *
 * Run alone: npx tsc -p bench/tsconfig.json && node .bench-build/bench/engine.js
 */
import { pathToFileURL } from 'node:url';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadScenario, scenarioNames, scenariosDir } from '../src/commands/diagnose.js';
import { diagnose, findingKey } from '../src/diagnose/index.js';
import { median, type BenchLab, type BenchRow, type BenchSection } from './types.js';

interface ExpectedRoots {
  roots: Array<{ id: string; labels: Record<string, string> }>;
}

function percentile(samples: readonly number[], p: number): number {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

const us = (ms: number) => `${(ms * 1000).toFixed(1)} µs`;

export async function benchEngine(_lab?: BenchLab, opts: { runs?: number; log?: (line: string) => void } = {}): Promise<BenchSection> {
  const log = opts.log ?? (() => {});
  const dir = scenariosDir();
  const rows: BenchRow[] = [];
  const figures: BenchSection['figures'] = [];

  const rootsRight = (name: string, d: ReturnType<typeof diagnose>) => {
    const expected = JSON.parse(readFileSync(join(dir, name, 'expected.json'), 'utf8')) as ExpectedRoots;
    const want = expected.roots.map((r) => findingKey(r.id, r.labels));
    const got = d.findings.filter((f) => f.root).map((f) => f.key);
    return JSON.stringify(want) === JSON.stringify(got);
  };

  // One call at a time: the latency a user (or the TUI, per observation) sees.
  const seed = loadScenario('unplugged-pi', dir);
  for (let i = 0; i < 300; i++) diagnose(seed.run.observations, seed.config); // warm the JIT
  const calls = Math.max(200, (opts.runs ?? 5) * 400);
  const samples: number[] = [];
  let correct = true;
  for (let i = 0; i < calls; i++) {
    const t0 = performance.now();
    const d = diagnose(seed.run.observations, seed.config);
    samples.push(performance.now() - t0);
    if (i === 0) correct = rootsRight('unplugged-pi', d);
  }
  rows.push({ scenario: 'diagnose unplugged-pi (one call)', tool: 'netdoctor', samplesMs: samples, correct, note: `${calls} calls, ${seed.run.observations.length} observations` });
  log(`engine: unplugged-pi p50 ${us(median(samples))} over ${calls} calls`);

  // Throughput: back to back for a fixed stretch of time.
  const budgetMs = 1500;
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < budgetMs) {
    diagnose(seed.run.observations, seed.config);
    n++;
  }
  const perSecond = n / ((performance.now() - start) / 1000);
  figures.push({ name: 'diagnoses per second (unplugged-pi)', value: Math.round(perSecond).toLocaleString('en-US') });
  figures.push({ name: 'one diagnose, p50 / p99 (unplugged-pi)', value: `${us(median(samples))} / ${us(percentile(samples, 99))}` });
  log(`engine: ${Math.round(perSecond)} diagnoses/s`);

  // Every scenario once per round, to show no scenario is a slow path.
  const all = scenarioNames(dir).map((name) => loadScenario(name, dir));
  const rounds = Math.max(20, (opts.runs ?? 5) * 20);
  const perScenario: number[] = [];
  let allRight = true;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (const s of all) {
      const d = diagnose(s.run.observations, s.config);
      if (r === 0 && !rootsRight(s.name, d)) allRight = false;
    }
    perScenario.push((performance.now() - t0) / all.length);
  }
  rows.push({ scenario: `diagnose, mean over all ${all.length} scenarios (one call)`, tool: 'netdoctor', samplesMs: perScenario, correct: allRight });

  return {
    title: 'Rule engine',
    rows,
    figures,
    notes: [
      'Pure and synchronous: no network, no lab. Correct = the roots match the scenario\'s expected.json.',
      'For comparison, the time to learn anything about a network is seconds (a DHCP window alone is up to 6 s): the engine is not on the critical path.',
    ],
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const section = await benchEngine(undefined, { log: (l) => console.error(l) });
  for (const row of section.rows) console.log(`${row.scenario}: median ${us(median(row.samplesMs))}, correct ${row.correct}`);
  for (const f of section.figures ?? []) console.log(`${f.name}: ${f.value}`);
}
