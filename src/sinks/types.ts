/** What every output of a finished run implements (Alertmanager's Notifier is the model). */
import type { Config } from '../config/resolve.js';
import type { RunResult } from '../probes/types.js';
import type { CheckReport } from '../report/json.js';

/** A run that is over: what it was judged against, its report, and the raw result. */
export interface FinishedRun {
  config: Config;
  report: CheckReport;
  run: RunResult;
}

/** One output (history, Graphite, later notifications and Prometheus): it only delivers, never judges. */
export interface Sink {
  readonly name: string;
  /** Delivers one run; throws (a SinkFailure for several lines) when it could not, which is reported on stderr only. */
  deliver(run: FinishedRun, signal: AbortSignal): Promise<void>;
  /** Frees what the sink holds, once every sink has delivered. */
  close?(): void;
}

/** A sink's failure as lines for stderr (e.g. "Graphite unreachable" and "the spool is full"). */
export class SinkFailure extends Error {
  constructor(readonly lines: readonly string[]) {
    super(lines.join('; '));
    this.name = 'SinkFailure';
  }
}
