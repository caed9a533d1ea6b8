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
import dns2 from 'dns2';
import fc from 'fast-check';
import { parseReply } from '../src/probes/net/dns-packet.js';
import { describeStats, dnsTarget, isCutOff, runFuzz, targets, withCutOff, type FuzzStats } from '../test/fuzz/targets.js';
import type { BenchFn, BenchRow } from './types.js';

export const FUZZ_INPUTS_PER_PARSER = 100_000;
/** The side-by-side with dns2's own parser: fewer inputs, since some cost it seconds each. */
const DNS2_INPUTS = 300;
/** dns2 is cut off after this per input (vm timeout), and counted. */
const DNS2_CUT_MS = 500;

/**
 * The same DNS inputs through netdoctor's gate and through dns2 2.4.0's
 * `Packet.parse` on the raw bytes — what netdoctor would do without the gate.
 * Each call runs under a vm timeout, so an input dns2 spends seconds on is cut
 * and counted rather than stalling the benchmark.
 */
function dns2SideBySide(slices: number, log: (line: string) => void): BenchRow[] {
  const inputs = fc.sample(dnsTarget.arbitrary, { numRuns: DNS2_INPUTS, seed: 20261125 });
  const rows: BenchRow[] = [];
  for (const tool of ['netdoctor parseReply (the gate, then dns2 on what passed)', 'dns2 2.4.0 Packet.parse on the raw reply (not used by netdoctor)'] as const) {
    const ours = tool.startsWith('netdoctor');
    let threw = 0;
    let cut = 0;
    let slow = 0;
    let worst = 0;
    const samples: number[] = [];
    const per = Math.ceil(inputs.length / slices);
    for (let i = 0; i < inputs.length; i += per) {
      const t0 = performance.now();
      for (const input of inputs.slice(i, i + per)) {
        const buf = Buffer.from(input.bytes.buffer, input.bytes.byteOffset, input.bytes.byteLength);
        const parse = ours ? () => void parseReply(buf, input.expect) : () => void dns2.Packet.parse(buf);
        const s = performance.now();
        try {
          withCutOff(parse, DNS2_CUT_MS);
        } catch (err) {
          if (isCutOff(err)) cut++;
          else threw++;
        }
        const ms = performance.now() - s;
        if (ms > 250) slow++;
        worst = Math.max(worst, ms);
      }
      samples.push(((performance.now() - t0) / Math.min(per, inputs.length - i)) * 1000);
    }
    log(`fuzz side by side: ${tool}: ${threw} threw, ${cut} cut at ${DNS2_CUT_MS} ms, ${slow} over 250 ms, worst ${worst.toFixed(0)} ms`);
    rows.push({
      scenario: `dns: the same ${DNS2_INPUTS.toLocaleString('en')} inputs, time per 1,000`,
      tool,
      samplesMs: samples,
      correct: ours ? threw + cut + slow === 0 : null,
      note: `${threw} threw, ${cut} cut off at ${DNS2_CUT_MS} ms, ${slow} took over 250 ms; worst ${worst.toFixed(0)} ms`,
    });
  }
  return rows;
}

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
      // A per-input cut (a vm watchdog, ~75 µs a call) only where a parser is known to blow up: elsewhere it would be most of the time measured.
      const s = runFuzz(target, { runs: Math.min(per, total - i * per), maxMsPerInput: 250, budgetMs: 10 * 60_000 });
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
  rows.push(...dns2SideBySide(slices, log));
  return {
    title: 'Fuzzing every parser',
    rows,
    figures: [
      { name: 'inputs', value: `${allInputs.toLocaleString('en')} (${targets.length} parsers, generated, mutated from recorded packets and files, and random)` },
      { name: 'failures', value: String(allFailures) },
    ],
    notes: [
      'The last two rows put the same DNS inputs through netdoctor\'s gate and through dns2 2.4.0\'s Packet.parse on the raw bytes, which netdoctor never does: what the gate saves. dns2 throws on some of them and spends seconds on headers that claim more records than the message holds (each such input is cut off and counted).',
      'A failure is anything but the parser\'s documented error value escaping, an input taking over 250 ms of CPU (for the config parser each is also cut off at 1 s and the run goes on; its time per 1,000 includes that watchdog, ~75 µs an input), output out of proportion to the input, heap growth over 32 MiB, or (ddclient) a planted password coming out. "decoded past the first checks" is the share of inputs that reached the code that decodes (an offer, a reply with records, a loaded config), not only the cheap early rejections.',
      ...notes,
    ],
  };
};
