/**
 * Recorded scenarios for the UI tests, diagnosed by the real engine, and a
 * run source a test can hold in any state (the probes are not what these
 * tests are about: they test the UI; the lab test runs the real ones).
 */
import { setTimeout } from 'node:timers';
import { diagnose } from '../../src/diagnose/index.js';
import { PROBE_NAMES, type ProbeName, type RunEvent, type RunResult } from '../../src/probes/types.js';
import type { RunOutcome, RunSource } from '../../src/report/tui/source.js';
import { recordedScenario, type RecordedScenario } from '../support/scenarios.js';

export interface Scenario extends RecordedScenario {
  outcome: RunOutcome;
}

export function scenario(name: string): Scenario {
  const s = recordedScenario(name);
  return { ...s, outcome: { result: s.run, diagnosis: diagnose(s.run.observations, s.config) } };
}

/** Every event of a recorded run, in order, as the runner would emit them. */
export function eventsOf(run: RunResult): RunEvent[] {
  const probes = PROBE_NAMES.filter((p) => run.observations.some((o) => o.probe === p));
  return [
    { type: 'run-start', at: run.startedAt, probes, deadline: 0 },
    ...probes.map((probe): RunEvent => ({ type: 'probe-start', probe, at: run.startedAt })),
    ...run.observations.map((observation): RunEvent => ({ type: 'observation', observation })),
    ...probes.map((probe): RunEvent => ({ type: 'probe-end', probe, outcome: 'done', durationMs: 1 })),
    { type: 'run-end', durationMs: run.durationMs },
  ];
}

/**
 * A source the test drives by hand: each run is held open until the test
 * emits events and finishes it; `signals` lets a test see that the UI
 * aborted a run (quit, re-run).
 */
export class HeldSource implements RunSource {
  readonly probes: readonly ProbeName[];
  readonly signals: AbortSignal[] = [];
  private pending: Array<{ emit: (e: RunEvent) => void; finish: (o: RunOutcome) => void; fail: (e: Error) => void }> = [];
  constructor(probes: readonly ProbeName[] = PROBE_NAMES) {
    this.probes = probes;
  }
  get runs(): number {
    return this.signals.length;
  }
  private waiters: Array<{ n: number; resolve: () => void }> = [];
  /** Resolves once run() has been called `n` times: the UI may draw "checking…" before it calls the source. */
  untilRuns(n: number, timeoutMs = 10_000): Promise<void> {
    if (this.runs >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the source was run ${this.runs} times, not ${n}, within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({ n, resolve: () => { clearTimeout(timer); resolve(); } });
    });
  }
  run(signal: AbortSignal, onEvent: (event: RunEvent) => void): Promise<RunOutcome> {
    this.signals.push(signal);
    for (const w of this.waiters.filter((w) => this.runs >= w.n)) w.resolve();
    this.waiters = this.waiters.filter((w) => this.runs < w.n);
    return new Promise((resolve, reject) => {
      signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
      this.pending.push({ emit: onEvent, finish: resolve, fail: reject });
    });
  }
  /** Events into the latest run. */
  emit(...events: RunEvent[]): void {
    const p = this.pending[this.pending.length - 1];
    for (const e of events) p.emit(e);
  }
  finish(outcome: RunOutcome): void {
    this.pending[this.pending.length - 1].finish(outcome);
  }
  fail(message: string): void {
    this.pending[this.pending.length - 1].fail(new Error(message));
  }
}
