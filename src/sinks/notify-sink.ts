/** The notification sink: incident transitions (opened, changed, resolved) to the configured channels, state kept in the history. */
import type Database from 'better-sqlite3';
import { runNotifySink } from './notify/index.js';
import { SinkFailure, type FinishedRun, type Sink } from './types.js';

/** Sends what changed since the last run; needs the history's database for its state and outbox. */
export class NotifySink implements Sink {
  readonly name = 'notify';

  /** `db` gives the history's open database (after the history sink delivered), or undefined when there is none. */
  constructor(private readonly db: () => Database.Database | undefined, private readonly deadlineMs: number) {}

  /** Problems (a channel down, no history) come back as one SinkFailure, reported like every other sink's. */
  async deliver(run: FinishedRun): Promise<void> {
    const db = this.db();
    if (!db) throw new SinkFailure(['notifications skipped: they need the run history (its state says what was already sent)']);
    const problems: string[] = [];
    await runNotifySink({ db, config: run.config, report: run.report, deadline: Date.parse(run.report.startedAt) + this.deadlineMs, warn: (line) => problems.push(line.replace(/^netdoctor: /, '')) });
    if (problems.length > 0) throw new SinkFailure(problems);
  }
}
