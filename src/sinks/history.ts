/** The history sink: every finished run into the SQLite history, old runs pruned. */
import type { Config } from '../config/resolve.js';
import { History } from '../history/history.js';
import type { Spool } from '../history/spool.js';
import { storageProblem } from '../shared/disk.js';
import { errorMessage } from '../shared/errors.js';
import { SinkFailure, type FinishedRun, type Sink } from './types.js';

/** Records the run and prunes past `keep`; holds the database open for the Graphite spool until closed. */
export class HistorySink implements Sink {
  readonly name = 'history';
  private history: History | undefined;

  constructor(private readonly settings: Config['history']) {}

  async deliver(run: FinishedRun): Promise<void> {
    try {
      this.history = History.open(this.settings.path, { busyTimeoutMs: 1000 });
      this.history.recordRun(run.report);
      this.history.prune(this.settings.keepMs);
    } catch (err) {
      // The error that reaches us can mislead (ENOENT for a read-only disk, "disk I/O error" for a full one): ask the disk.
      const why = storageProblem(this.settings.path);
      throw new SinkFailure([`the run was not recorded in the history: ${errorMessage(err)}${why ? ` — ${why}` : ''}`]);
    }
  }

  /** The opened history's spool (even when recording failed), for Graphite. */
  spool(): Spool | undefined {
    return this.history?.spool;
  }

  /** The opened history's database (for the notification state), undefined when it could not be opened. */
  database(): History['db'] | undefined {
    return this.history?.db;
  }

  close(): void {
    this.history?.close();
  }
}
