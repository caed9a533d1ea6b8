/**
 * The practice lab: how long `netdoctor lab up`, each fault, `heal` and
 * `down` take through the CLI (node start-up included), as a user types them.
 * No other tool builds this network, so there is nothing to set beside it; the
 * figures back the README's "in under a second" and show which faults wait
 * (the ones that make the Pis ask DHCP again).
 *
 * It builds its own lab under another prefix, so it can run while the shared
 * benchmark lab is up.
 */
import { FAULTS } from '../src/lab/faults.js';
import { BUILT_CLI } from '../src/lab/guest.js';
import { Lab, labUnavailableReason } from '../src/lab/lab.js';
import { run, type RunResult } from '../src/lab/sys.js';
import type { BenchFn, BenchRow } from './types.js';

/** This section's own lab, beside the shared `bench` one (bench/run.ts takes it down too on Ctrl-C). */
export const LAB_BENCH_PREFIX = 'benchup';

/** One `netdoctor lab …` through the CLI, timed as a user waits for it (a hung step is cut at 60 s). */
async function lab(args: string[]): Promise<RunResult & { ms: number }> {
  const t0 = performance.now();
  const r = await run([process.execPath, BUILT_CLI, 'lab', ...args, '--prefix', LAB_BENCH_PREFIX], { timeoutMs: 60_000 });
  return { ...r, ms: performance.now() - t0 };
}

/** `lab status --json` exits 0 only when every server of the lab runs. */
async function allRunning(): Promise<boolean> {
  return (await lab(['status', '--json'])).code === 0;
}

export const labBench: BenchFn = async (_shared, { runs, log }) => {
  const why = labUnavailableReason();
  if (why) throw new Error(`the lab section needs the lab: ${why}`);
  const rows: BenchRow[] = [];
  const up: number[] = [];
  const down: number[] = [];
  let upRight = true;
  let downRight = true;
  const faultMs = new Map<string, number[]>(Object.keys(FAULTS).map((f) => [f, []]));
  const faultRight = new Map<string, boolean>(Object.keys(FAULTS).map((f) => [f, true]));
  const heal: number[] = [];
  let healRight = true;
  const problems = new Set<string>();

  try {
    for (let i = 0; i < runs; i++) {
      const u = await lab(['up']);
      up.push(u.ms);
      if (u.code !== 0 || !(await allRunning())) {
        upRight = false;
        problems.add(`up: exit ${u.code} ${u.stderr.trim().split('\n').pop() ?? ''}`);
        continue;
      }
      // Every fault once per run, each from the healthy network.
      for (const fault of Object.keys(FAULTS)) {
        const f = await lab(['fault', fault]);
        faultMs.get(fault)!.push(f.ms);
        if (f.code !== 0) {
          faultRight.set(fault, false);
          problems.add(`${fault}: exit ${f.code}`);
        }
        const h = await lab(['heal']);
        heal.push(h.ms);
        if (h.code !== 0 || !(await allRunning())) {
          healRight = false;
          problems.add(`heal after ${fault}: exit ${h.code}`);
        }
      }
      const d = await lab(['down']);
      down.push(d.ms);
      if (d.code !== 0 || Lab.exists(LAB_BENCH_PREFIX)) {
        downRight = false;
        problems.add(`down: exit ${d.code}`);
      }
      log(`lab bench: run ${i + 1}/${runs}: up ${Math.round(u.ms)} ms, down ${Math.round(d.ms)} ms`);
    }
  } finally {
    await lab(['down']);
  }

  rows.push({ scenario: 'lab up (healthy network, servers running)', tool: 'netdoctor lab up', samplesMs: up, correct: upRight });
  rows.push({ scenario: 'lab down (nothing left)', tool: 'netdoctor lab down', samplesMs: down, correct: downRight });
  for (const [fault, samples] of faultMs) {
    rows.push({ scenario: `lab fault ${fault}`, tool: `netdoctor lab fault ${fault}`, samplesMs: samples, correct: faultRight.get(fault)! });
  }
  rows.push({ scenario: 'lab heal (back to healthy, every server running)', tool: 'netdoctor lab heal', samplesMs: heal, correct: healRight });
  return {
    title: 'The practice lab: up, faults, heal, down',
    rows,
    notes: [
      `Each figure is the CLI as a user types it (\`node dist/cli.js lab … --prefix ${LAB_BENCH_PREFIX}\`), node start-up included; ${runs} times each, every fault applied to the healthy network and healed after.`,
      'Correct: `lab status --json` exits 0 (every server running) after up and after heal, the fault command exits 0, and after down neither its namespaces nor its state dir are left.',
      'unplugged-pi and reservations-lost take seconds by design: the Pis re-plug and really ask DHCP again (and fall back to link-local, or take a pool address), as on the seed\'s network.',
      ...(problems.size ? [`Problems seen: ${[...problems].join('; ')}`] : []),
    ],
  };
};

export default labBench;
