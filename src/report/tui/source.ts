/**
 * Where the UI's runs come from. The UI only knows this interface, and only
 * displays: the command that starts it drives the runs (src/commands/tui.ts
 * runs the probes and diagnoses what they saw). Here is the one source that
 * is about showing: a replay plays a recorded, already diagnosed run back as
 * the same runner events, at the pace it was recorded.
 */
import type { Diagnosis } from '../../diagnose/types.js';
import { PROBE_NAMES, type Observation, type ProbeName, type ProbeOutcome, type RunEvent, type RunResult } from '../../probes/types.js';

export interface RunOutcome {
  result: RunResult;
  diagnosis: Diagnosis;
}

export interface RunSource {
  /** The probe rows, in display order. */
  probes: readonly ProbeName[];
  /**
   * One run. Emits runner events as they happen and resolves with the result
   * and its diagnosis. When `signal` aborts it stops promptly (sockets closed,
   * children killed, timers cleared); what it resolves or rejects with then is
   * ignored.
   */
  run(signal: AbortSignal, onEvent: (event: RunEvent) => void): Promise<RunOutcome>;
}

export interface ReplayOptions {
  /** 2 plays twice as fast; default 1 (the pace it was recorded at). */
  speed?: number;
  /** Injected in tests; `Date.now` otherwise. */
  now?: () => number;
}

/** When each event of a recorded run happens, in ms after the start. */
export interface ReplayStep {
  atMs: number;
  event: RunEvent;
}

/** Runner reasons that say how a probe ended when it did not simply finish. */
const OUTCOME_OF_REASON: Record<string, ProbeOutcome> = { timeout: 'timeout', aborted: 'aborted', exception: 'crashed' };

/**
 * The runner events a recorded run would have produced, timed from the
 * observations' own timestamps: every probe starts at once, each observation
 * arrives when it was made, a probe ends with its last observation, the run
 * ends at its recorded duration. Recordings without usable times (a bare
 * list, all at the epoch) are spread evenly so the replay still reads as a run.
 */
export function replaySchedule(run: RunResult): ReplayStep[] {
  const start = Date.parse(run.startedAt);
  const obs = run.observations;
  const offsets = obs.map((o) => Date.parse(o.at) - start);
  const usable = Number.isFinite(start) && offsets.every((t) => Number.isFinite(t) && t >= 0 && t <= Math.max(run.durationMs, 0) + 60_000);
  const spread = 150;
  const at = (i: number) => (usable ? offsets[i] : (i + 1) * spread);
  const duration = usable ? Math.max(run.durationMs, ...offsets, 0) : (obs.length + 1) * spread;

  const skippedProbe = (o: Observation) => o.check === 'probe' && o.status === 'skipped';
  const byProbe = new Map<ProbeName, number[]>();
  obs.forEach((o, i) => byProbe.set(o.probe, [...(byProbe.get(o.probe) ?? []), i]));
  const skipped = [...byProbe.entries()].filter(([, idx]) => idx.every((i) => skippedProbe(obs[i]))).map(([p]) => p);
  const running = PROBE_NAMES.filter((p) => byProbe.has(p) && !skipped.includes(p));

  const steps: ReplayStep[] = [];
  const startedAt = new Date(Number.isFinite(start) ? start : 0).toISOString();
  steps.push({ atMs: 0, event: { type: 'run-start', at: startedAt, probes: running, deadline: duration } });
  for (const p of skipped) {
    for (const i of byProbe.get(p)!) steps.push({ atMs: 0, event: { type: 'observation', observation: obs[i] } });
    steps.push({ atMs: 0, event: { type: 'probe-end', probe: p, outcome: 'skipped', durationMs: 0 } });
  }
  for (const p of running) steps.push({ atMs: 0, event: { type: 'probe-start', probe: p, at: startedAt } });
  const timed: ReplayStep[] = [];
  for (const p of running) {
    const idx = byProbe.get(p)!;
    let last = 0;
    for (const i of idx) {
      timed.push({ atMs: at(i), event: { type: 'observation', observation: obs[i] } });
      last = Math.max(last, at(i));
    }
    const probeLevel = idx.map((i) => obs[i]).find((o) => o.check === 'probe' && OUTCOME_OF_REASON[o.reason]);
    timed.push({ atMs: last, event: { type: 'probe-end', probe: p, outcome: probeLevel ? OUTCOME_OF_REASON[probeLevel.reason] : 'done', durationMs: last } });
  }
  // Stable by time: observations keep their recorded order, and a probe ends after its last observation.
  timed.sort((a, b) => a.atMs - b.atMs);
  steps.push(...timed);
  steps.push({ atMs: duration, event: { type: 'run-end', durationMs: duration } });
  return steps;
}

/** A recorded run and its diagnosis played back as if the probes were running now: no network, no root. */
export function replaySource(recorded: RunOutcome, opts: ReplayOptions = {}): RunSource {
  const speed = opts.speed && opts.speed > 0 ? opts.speed : 1;
  const now = opts.now ?? Date.now;
  const steps = replaySchedule(recorded.result);
  const first = steps[0].event;
  const probes = PROBE_NAMES.filter((p) => recorded.result.observations.some((o) => o.probe === p) || (first.type === 'run-start' && first.probes.includes(p)));
  return {
    probes,
    run(signal, onEvent) {
      return new Promise<RunOutcome>((resolve, reject) => {
        const begun = now();
        let i = 0;
        let timer: NodeJS.Timeout | undefined;
        const stop = () => {
          clearTimeout(timer);
          reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
        };
        if (signal.aborted) return stop();
        signal.addEventListener('abort', stop, { once: true });
        const next = () => {
          // Everything that is due goes out together; then sleep until the next step.
          while (i < steps.length && steps[i].atMs / speed <= now() - begun) {
            const step = steps[i++];
            onEvent(step.event.type === 'run-start' ? { ...step.event, at: new Date(begun).toISOString() } : step.event);
          }
          if (i < steps.length) {
            timer = setTimeout(next, Math.max(0, steps[i].atMs / speed - (now() - begun)));
            return;
          }
          signal.removeEventListener('abort', stop);
          // Started now, but it took what the probes took when it was recorded.
          const result: RunResult = { ...recorded.result, startedAt: new Date(begun).toISOString() };
          resolve({ result, diagnosis: recorded.diagnosis });
        };
        next();
      });
    },
  };
}
