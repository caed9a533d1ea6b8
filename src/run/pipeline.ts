/**
 * One run pipeline for every command: select probes → prepare (what needs
 * root, e.g. UDP port 68) → drop root (`--user`) → run under the deadline →
 * diagnose. Commands keep only their arguments and their output.
 */
import { defaultHistoryPath, defaultStateDir, type Config } from '../config/resolve.js';
import { diagnose } from '../diagnose/index.js';
import type { Diagnosis } from '../diagnose/types.js';
import { prepareProbes, releasePrepared } from '../probes/prepare.js';
import { probes as registry } from '../probes/registry.js';
import { runProbes, selectProbes, type Selection } from '../probes/runner.js';
import type { Prepared, Probe, ProbeName, RunEvent, RunResult, Vantage } from '../probes/types.js';
import { dropPrivileges, lookupUser } from '../privileges.js';

/** What a command asks of a run, from its flags and config. */
export interface RunRequest {
  config: Config;
  /** The probes to select from; every registered probe unless a command needs a few (init's scan). */
  probes?: readonly Probe[];
  only?: readonly string[];
  skip?: readonly string[];
  vantage?: Vantage;
  /** Whole-run deadline, ms; the config's `deadline` by default. */
  deadlineMs?: number;
  /** `--force`: the hosts probe may sweep a subnet wider than /22. */
  force?: boolean;
  /** `--user`: once prepared, drop root to this user for good. */
  user?: string;
  /** Open what needs root before the runs (default true); the UI without --user opens it in each run instead. */
  prepare?: boolean;
  /** Cancels the prepare step (Ctrl-C). */
  signal?: AbortSignal;
}

/** One run's observations and their diagnosis. */
export interface PipelineRun {
  result: RunResult;
  diagnosis: Diagnosis;
}

/** A prepared pipeline: run it once (check) or again and again (the UI), then close it. */
export interface Pipeline {
  /** The config after the drop (the history's default place follows the user). */
  readonly config: Config;
  readonly selection: Selection;
  readonly vantage: Vantage;
  readonly deadlineMs: number;
  run(signal?: AbortSignal, onEvent?: (e: RunEvent) => void): Promise<PipelineRun>;
  /** Releases what the prepare step opened; never throws, safe to call twice. */
  close(): void;
}

/** The options every probe sees in its context: one place, so no command can forget one. */
export function probeOptions(req: Pick<RunRequest, 'force'>): Record<string, unknown> {
  return { force: req.force ?? false };
}

/** Usage errors (an unknown user or probe name) before anything is opened. */
function selectFor(req: RunRequest): Selection {
  if (req.user !== undefined) lookupUser(req.user);
  return selectProbes(req.probes ?? registry, { only: req.only, skip: req.skip, vantage: req.vantage ?? 'inside' });
}

/** Selects, prepares and drops root; the returned pipeline runs and diagnoses. */
export async function openPipeline(req: RunRequest): Promise<Pipeline> {
  const selection = selectFor(req);
  const vantage = req.vantage ?? 'inside';
  const options = probeOptions(req);
  // What needs root (port 68) is opened first; then root is dropped; only then is the network read.
  let prepared: ReadonlyMap<ProbeName, Prepared> | undefined;
  if (req.prepare !== false || req.user !== undefined) {
    prepared = (await prepareProbes(selection.run, { config: req.config, vantage, options, ...(req.signal ? { signal: req.signal } : {}) })).prepared;
  }
  let config = req.config;
  try {
    if (req.user !== undefined) config = becomeUser(req.user, config);
  } catch (err) {
    if (prepared) releasePrepared(prepared);
    throw err;
  }
  const deadlineMs = req.deadlineMs ?? config.deadlineMs;
  return {
    config,
    selection,
    vantage,
    deadlineMs,
    async run(signal, onEvent) {
      const result = await runProbes({ config, selection, vantage, deadlineMs, signal, onEvent, options, ...(prepared ? { prepared } : {}) });
      return { result, diagnosis: diagnose(result.observations, config) };
    },
    close() {
      if (prepared) releasePrepared(prepared);
    },
  };
}

/**
 * Drops root for `--user`. The history's default place follows the user
 * (it was worked out from root's HOME); a history.path set in the config
 * stays, and must be writable by that user.
 */
function becomeUser(name: string, config: Config): Config {
  const before = defaultHistoryPath(defaultStateDir(process.env, process.getuid?.()));
  const outcome = dropPrivileges(name);
  if (outcome.note) process.stderr.write(`netdoctor: ${outcome.note}\n`);
  if (!outcome.dropped || config.history.path !== before) return config;
  // Only the user's HOME: root's XDG_STATE_HOME would point the user back at a directory it cannot write.
  const after = defaultStateDir({ HOME: outcome.user.home ?? '/nonexistent' }, process.getuid?.());
  return { ...config, history: { ...config.history, path: defaultHistoryPath(after) } };
}
