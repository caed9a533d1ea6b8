/**
 * The fuzz section of `npm run bench`: every parser that reads the network
 * or a file, 100,000 generated, mutated and random inputs each (the targets
 * and the property are in test/fuzz/targets.ts, shared with the test suite,
 * which runs 2,000). No lab: parsers only.
 *
 * The 100,000 are run as `runs` slices with different seeds, so the table
 * shows the median time per 1,000 inputs over the slices like every other
 * figure; failures, the worst single input and heap growth are over all of
 * them. A failure is a finding, not a crash of the benchmark: it is counted
 * and the first inputs that failed are printed.
 */
import { describeStats, runFuzz, targets, type FuzzStats } from '../test/fuzz/targets.js';
import type { BenchFn, BenchRow } from './types.js';

export const FUZZ_INPUTS_PER_PARSER = 100_000;

export const fuzzBench: BenchFn = async (_lab, { runs, log }) => {
  const total = Number(process.env.NETDOCTOR_FUZZ_BENCH_RUNS ?? FUZZ_INPUTS_PER_PARSER);
  const slices = Math.max(1, Math.min(runs, total));
  const rows: BenchRow[] = [];
  const notes: string[] = [];
  let allInputs = 0;
  let allFailures = 0;
  for (const target of targets) {
    const per = Math.ceil(total / slices);
    const stats: FuzzStats[] = [];
    for (let i = 0; i < slices; i++) {
      const s = runFuzz(target, { runs: Math.min(per, total - i * per), maxMsPerInput: 250, budgetMs: 30 * 60_000 });
      log(`fuzz ${describeStats(s)}`);
      stats.push(s);
      // Let the event loop breathe between slices (the progress lines, a SIGINT).
      await new Promise((r) => setImmediate(r));
    }
    const inputs = stats.reduce((n, s) => n + s.runs, 0);
    const failures = stats.reduce((n, s) => n + s.failures, 0);
    const deep = stats.reduce((n, s) => n + s.deep, 0);
    const worst = stats.reduce((a, s) => (s.worstCpuMs > a.worstCpuMs ? s : a));
    const heap = Math.max(...stats.map((s) => s.heapGrowthBytes));
    const perSecond = inputs / (stats.reduce((n, s) => n + s.elapsedMs, 0) / 1000);
    allInputs += inputs;
    allFailures += failures;
    rows.push({
      scenario: `${target.name}: ${inputs.toLocaleString('en')} inputs, time per 1,000`,
      tool: `netdoctor ${target.parser.replace(/ \(src\/.*$/, '')}`,
      samplesMs: stats.map((s) => (s.elapsedMs / Math.max(1, s.runs)) * 1000),
      correct: failures === 0,
      note: `${failures} failures; ${Math.round(perSecond).toLocaleString('en')} inputs/s; worst input ${worst.worstCpuMs.toFixed(1)} ms CPU; heap +${(heap / 2 ** 20).toFixed(1)} MiB; ${((100 * deep) / inputs).toFixed(0)}% decoded past the first checks`,
    });
    // The first few failing inputs, on one line each (a note is a Markdown quote).
    const examples = stats.flatMap((s) => s.examples.map((e) => ({ seed: s.seed, ...e }))).slice(0, 3);
    for (const e of examples) notes.push(`${target.name} failure (seed ${e.seed}): ${e.error.replace(/\s+/g, ' ')} — input: ${e.input.slice(0, 300).replace(/\s+/g, ' ')}`);
  }
  return {
    title: 'Fuzzing every parser',
    rows,
    figures: [
      { name: 'inputs', value: `${allInputs.toLocaleString('en')} (${targets.length} parsers, generated, mutated from recorded packets and files, and random)` },
      { name: 'failures', value: String(allFailures) },
    ],
    notes: [
      'A failure is anything but the parser\'s documented error value escaping, an input taking over 250 ms of CPU, a parser that never returns, output out of proportion to the input, heap growth over 32 MiB, or (ddclient) a planted password coming out. "decoded past the first checks" is the share of inputs that reached the code that decodes (an offer, a reply with records, a loaded config), not only the cheap early rejections.',
      ...notes,
    ],
  };
};
