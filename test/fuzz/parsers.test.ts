/**
 * Every parser that reads the network or a file, fuzzed: generated, mutated
 * (from recorded packets and files) and random inputs, 2,000 per parser here
 * (NETDOCTOR_FUZZ_RUNS to change it; NETDOCTOR_FUZZ_SEED to replay a run),
 * 100,000 in `npm run bench -- --only fuzz`. The targets and the property
 * live in ./targets.ts.
 */
import { describe, expect, it } from 'vitest';
import { describeStats, mutateBytes, runFuzz, targets } from './targets.js';

const RUNS = Number(process.env.NETDOCTOR_FUZZ_RUNS ?? 2000);
const SEED = process.env.NETDOCTOR_FUZZ_SEED === undefined ? undefined : Number(process.env.NETDOCTOR_FUZZ_SEED);

describe('fuzzing every parser', () => {
  // The whole-target watchdog grows with the count asked for (NETDOCTOR_FUZZ_RUNS).
  const budgetMs = Math.max(50_000, RUNS * 10);
  for (const target of targets) {
    it(`${target.name}: ${target.parser}`, () => {
      // A generous per-input bound: other test files share the two cores, and CPU time already leaves out waiting.
      const stats = runFuzz(target, { runs: RUNS, seed: SEED, maxMsPerInput: 250, cutEachMs: 1000, budgetMs });
      console.log(`fuzz ${describeStats(stats)}`);
      expect(stats.examples, `replay with NETDOCTOR_FUZZ_SEED=${stats.seed}`).toEqual([]);
      expect(stats.failures).toBe(0);
      expect(stats.runs).toBe(RUNS);
      // Each kind of input was really exercised.
      for (const kind of ['generated', 'mutated', 'random'] as const) expect(stats.byKind[kind]).toBeGreaterThan(RUNS / 20);
      // …and enough of them got past the first cheap checks to test the code that decodes.
      expect(stats.deep, `outcomes: ${JSON.stringify(stats.outcomes)}`).toBeGreaterThan(RUNS / 20);
    }, budgetMs + 10_000);
  }
});

describe('the fuzz harness itself', () => {
  it('mutations edit where they say', () => {
    const seed = Uint8Array.from([1, 2, 3, 4]);
    expect([...mutateBytes(seed, [{ op: 'truncate', at: 2 }])]).toEqual([1, 2]);
    expect([...mutateBytes(seed, [{ op: 'delete', at: 1, count: 2 }])]).toEqual([1, 4]);
    expect([...mutateBytes(seed, [{ op: 'insert', at: 4, bytes: Uint8Array.from([9]) }])]).toEqual([1, 2, 3, 4, 9]);
    expect([...mutateBytes(seed, [{ op: 'duplicate', at: 1, count: 2 }])]).toEqual([1, 2, 3, 2, 3, 4]);
    expect([...mutateBytes(seed, [{ op: 'word', at: 3, value: 0xc00c }])]).toEqual([1, 2, 0xc0, 0x0c]);
    expect([...mutateBytes(seed, [{ op: 'flip', at: 0, bit: 7 }])]).toEqual([0x81, 2, 3, 4]);
    expect([...seed]).toEqual([1, 2, 3, 4]);
  });

  it('catches a parser that throws, one that is slow, and one that never returns', () => {
    const base = targets.find((t) => t.name === 'ping')!;
    let n = 0;
    const throwing = { ...base, name: 'throws', check: () => { if (++n % 10 === 0) throw new TypeError('boom'); return 'fine'; } };
    const s1 = runFuzz(throwing, { runs: 100, seed: 1 });
    expect(s1.failures).toBe(10);
    expect(s1.examples[0].error).toBe('uncaught TypeError: boom');

    // The harness measures CPU time, so the slow target burns CPU time (3x the bound), not wall time a busy machine would eat.
    const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
    const slow = { ...base, name: 'slow', check: () => { const t = cpuMs(); while (cpuMs() - t < 30); return 'slow'; } };
    expect(runFuzz(slow, { runs: 3, seed: 1, maxMsPerInput: 10 }).failures).toBe(3);

    const hanging = { ...base, name: 'hangs', check: (): string => { for (;;); } };
    const s3 = runFuzz(hanging, { runs: 5, seed: 1, budgetMs: 300 });
    expect(s3.failures).toBe(1);
    expect(s3.examples[0].error).toMatch(/^no result within 300 ms: Script execution timed out/);
    // Cut one input at a time instead, and every input is still tried.
    const s4 = runFuzz(hanging, { runs: 4, seed: 1, cutEachMs: 50, budgetMs: 5000 });
    expect([s4.runs, s4.failures]).toEqual([4, 4]);
    expect(s4.examples[0].error).toBe('no result within 50 ms: cut off');
  });
});
