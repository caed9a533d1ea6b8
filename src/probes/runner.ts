/**
 * Runs the selected probes concurrently under one deadline. A run never takes
 * longer than its deadline, whatever a probe does: a probe that hangs is cut
 * and reported as `error`/`timeout`, one that throws as `error`/`exception`,
 * and whatever either emitted before that is kept.
 */
import type { Config } from '../config/resolve.js';
import { errorMessage, UsageError } from '../shared/errors.js';
import { didYouMean } from '../shared/suggest.js';
import type { Observation, ObservationDraft, Prepared, Probe, ProbeName, ProbeOutcome, RunEvent, RunResult, Vantage } from './types.js';

export interface Selection {
  run: Probe[];
  skipped: Array<{ probe: Probe; reason: 'not-selected' | 'other-vantage'; summary: string }>;
}

/** Applies `--only`, `--skip` and the vantage; unknown names are usage errors. */
export function selectProbes(
  all: readonly Probe[],
  opts: { only?: readonly string[]; skip?: readonly string[]; vantage: Vantage },
): Selection {
  const names = all.map((p) => p.name as string);
  for (const [flag, list] of [['--only', opts.only], ['--skip', opts.skip]] as const) {
    for (const n of list ?? []) {
      if (!names.includes(n)) {
        throw new UsageError(`${flag} ${JSON.stringify(n)} is not a probe${didYouMean(n, names)}; probes are: ${names.join(', ')}`);
      }
    }
  }
  const selection: Selection = { run: [], skipped: [] };
  for (const probe of all) {
    if ((opts.only && opts.only.length > 0 && !opts.only.includes(probe.name)) || opts.skip?.includes(probe.name)) {
      selection.skipped.push({ probe, reason: 'not-selected', summary: `${probe.name} not selected (--only/--skip)` });
    } else if (!probe.vantages.includes(opts.vantage)) {
      selection.skipped.push({ probe, reason: 'other-vantage', summary: `${probe.name} does not run from the ${opts.vantage} vantage` });
    } else {
      selection.run.push(probe);
    }
  }
  return selection;
}

export interface RunOptions {
  config: Config;
  selection: Selection;
  vantage: Vantage;
  /** Whole-run deadline, ms from now. */
  deadlineMs: number;
  /** External cancellation (Ctrl-C, the TUI quitting). */
  signal?: AbortSignal;
  onEvent?: (event: RunEvent) => void;
  options?: Record<string, unknown>;
  /** What `prepareProbes` opened for the probes (see Probe.prepare); the caller releases it after the run. */
  prepared?: ReadonlyMap<ProbeName, Prepared>;
}

export async function runProbes(opts: RunOptions): Promise<RunResult> {
  const started = Date.now();
  const startedAt = new Date(started).toISOString();
  const deadline = started + opts.deadlineMs;
  const observations: Observation[] = [];
  const ids = new Set<string>();
  const emitEvent = (e: RunEvent) => {
    try {
      opts.onEvent?.(e);
    } catch {
      // A broken progress display must not take the run down with it.
    }
  };

  const record = (probe: ProbeName, probeStart: number, draft: ObservationDraft): Observation => {
    const now = Date.now();
    let id = `${probe}:${draft.check}:${draft.subject}`;
    for (let n = 2; ids.has(id); n++) id = `${probe}:${draft.check}:${draft.subject}#${n}`;
    ids.add(id);
    const obs: Observation = {
      id,
      probe,
      check: draft.check,
      subject: draft.subject,
      status: draft.status,
      reason: draft.reason,
      summary: draft.summary,
      labels: draft.labels ?? {},
      values: finiteValues(draft.values ?? {}),
      ...(draft.data !== undefined ? { data: draft.data } : {}),
      durationMs: Math.round(draft.durationMs ?? now - probeStart),
      at: new Date(now).toISOString(),
    };
    observations.push(obs);
    emitEvent({ type: 'observation', observation: obs });
    return obs;
  };

  emitEvent({ type: 'run-start', at: startedAt, probes: opts.selection.run.map((p) => p.name), deadline });
  for (const s of opts.selection.skipped) {
    record(s.probe.name, started, { check: 'probe', subject: s.probe.name, status: 'skipped', reason: s.reason, summary: s.summary, durationMs: 0 });
    emitEvent({ type: 'probe-end', probe: s.probe.name, outcome: 'skipped', durationMs: 0 });
  }

  const finished = new Map<ProbeName, Promise<Observation[]>>();
  const settle = new Map<ProbeName, (obs: Observation[]) => void>();
  for (const p of opts.selection.run) finished.set(p.name, new Promise((res) => settle.set(p.name, res)));

  const runOne = async (probe: Probe): Promise<void> => {
    const probeStart = Date.now();
    const controller = new AbortController();
    const onOuterAbort = () => controller.abort(opts.signal?.reason ?? new Error('aborted'));
    if (opts.signal?.aborted) onOuterAbort();
    else opts.signal?.addEventListener('abort', onOuterAbort, { once: true });
    let open = true;
    const mine: Observation[] = [];
    emitEvent({ type: 'probe-start', probe: probe.name, at: new Date(probeStart).toISOString() });

    let timer: NodeJS.Timeout | undefined;
    let crash: unknown;
    const cut = new Promise<ProbeOutcome>((res) => {
      timer = setTimeout(() => res('timeout'), Math.max(0, deadline - probeStart));
      controller.signal.addEventListener('abort', () => res('aborted'), { once: true });
    });
    const work = (async (): Promise<ProbeOutcome> => {
      await probe.run({
        config: opts.config,
        vantage: opts.vantage,
        signal: controller.signal,
        deadline,
        options: opts.options ?? {},
        emit: (draft) => {
          if (!open) return { ...draft, id: '', probe: probe.name, at: '', labels: {}, values: {}, durationMs: 0 } as Observation;
          const obs = record(probe.name, probeStart, draft);
          mine.push(obs);
          return obs;
        },
        resultsOf: (other) => finished.get(other) ?? Promise.resolve(undefined),
        prepared: opts.prepared?.get(probe.name),
      });
      return 'done';
    })().catch((err: unknown) => {
      if (controller.signal.aborted) return 'aborted' as const;
      crash = err;
      return 'crashed' as const;
    });

    const outcome = await Promise.race([work, cut]);
    open = false;
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onOuterAbort);
    // Tell a cut probe to stop its sockets and children; its late results are ignored.
    if (outcome !== 'done' && !controller.signal.aborted) controller.abort(new Error(outcome));
    if (outcome === 'timeout') {
      mine.push(record(probe.name, probeStart, {
        check: 'probe', subject: probe.name, status: 'error', reason: 'timeout',
        summary: `${probe.name} did not finish within the ${Math.round(opts.deadlineMs)} ms deadline${mine.length ? '; results so far are kept' : ''}`,
      }));
    } else if (outcome === 'aborted') {
      mine.push(record(probe.name, probeStart, {
        check: 'probe', subject: probe.name, status: 'error', reason: 'aborted', summary: `${probe.name} was interrupted before it finished`,
      }));
    } else if (outcome === 'crashed') {
      mine.push(record(probe.name, probeStart, {
        check: 'probe', subject: probe.name, status: 'error', reason: 'exception',
        summary: `${probe.name} failed: ${errorMessage(crash)}`,
      }));
    }
    settle.get(probe.name)!(mine);
    emitEvent({ type: 'probe-end', probe: probe.name, outcome, durationMs: Date.now() - probeStart });
  };

  await Promise.all(opts.selection.run.map(runOne));
  const durationMs = Date.now() - started;
  emitEvent({ type: 'run-end', durationMs });
  return { startedAt, durationMs, vantage: opts.vantage, observations };
}

function finiteValues(values: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(values)) if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
  return out;
}
