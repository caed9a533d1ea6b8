/**
 * Benchmarks are not tests: they measure, side by side in one run, how long
 * netdoctor and the tools people would otherwise use take to reach a verdict,
 * and whether each verdict was right. `bench/run.ts` runs every section and
 * writes docs/benchmarks.md.
 */
export interface BenchRow {
  /** What was measured, e.g. "DHCP verdict, one server (first contact)". */
  scenario: string;
  /** `netdoctor`, `check_dhcp`, `nmap broadcast-dhcp-discover`, `fping -g`… */
  tool: string;
  /** Every run's time to verdict, ms. */
  samplesMs: number[];
  /** Did the tool's verdict match the truth of the lab? null when it gives none. */
  correct: boolean | null;
  note?: string;
}

export interface BenchSection {
  title: string;
  rows: BenchRow[];
  /** Figures that are not times (peak RSS, diagnoses per second), shown as given. */
  figures?: Array<{ name: string; value: string }>;
  notes?: string[];
}

// Every section reports medians; the one definition is netdoctor's own (the DNS probe's latency).
export { median } from '../src/shared/stats.js';

/** Times `fn` `runs` times, sequentially, returning the samples in ms. */
export async function timeRuns<T>(runs: number, fn: (i: number) => Promise<T>, check?: (r: T) => boolean): Promise<{ samplesMs: number[]; correct: boolean }> {
  const samplesMs: number[] = [];
  let correct = true;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = await fn(i);
    samplesMs.push(performance.now() - t0);
    if (check && !check(r)) correct = false;
  }
  return { samplesMs, correct };
}

/** What a benchmark section gets: one lab, built by bench/run.ts, shared by every section in turn. */
export interface BenchLab {
  prefix: string;
  /** Runs a command inside a lab node (`ip netns exec <prefix>-<node> …`). */
  exec(node: string, argv: string[], opts?: { timeoutMs?: number }): Promise<{ code: number; stdout: string; stderr: string }>;
  fault(...names: string[]): Promise<void>;
  heal(): Promise<void>;
  /** The lab's netdoctor.yaml (as `netdoctor lab config`). */
  configYaml(): string;
  /** Writes a config file readable from inside the lab and returns its path. */
  writeConfig(yaml: string): string;
  /** `node dist/cli.js …args` inside a node. */
  runNetdoctor(node: string, args: string[], opts?: { timeoutMs?: number; env?: Record<string, string> }): Promise<{ code: number; stdout: string; stderr: string }>;
}

export type BenchFn = (lab: BenchLab, opts: { runs: number; log: (line: string) => void }) => Promise<BenchSection>;
