/** The notification sink: incident transitions (opened, changed, resolved) to the configured channels, state kept in the history. */
import { runNotifySink } from './notify/index.js';
import type { FinishedRun, Sink } from './types.js';
import type Database from 'better-sqlite3';

/** Sends what changed since the last run; needs the history's database for its state and outbox. */
export class NotifySink implements Sink {
  readonly name = 'notify';

  /** `db` gives the history's open database (after the history sink delivered), or undefined when there is none. */
  constructor(private readonly db: () => Database.Database | undefined, private readonly deadlineMs: number) {}

  async deliver(run: FinishedRun): Promise<void> {
    const db = this.db();
    if (!db) {
      process.stderr.write('netdoctor: notifications skipped: they need the run history (its state says what was already sent)\n');
      return;
    }
    await runNotifySink({ db, config: run.config, report: run.report, deadline: Date.parse(run.report.startedAt) + this.deadlineMs, warn: (line) => process.stderr.write(`${line}\n`) });
  }
}

