/**
 * The notification sink as the run pipeline calls it after a run: bounded by
 * the run's deadline + 1 s, each failed channel reported once through `warn`
 * (free of secrets), and never an exception: nothing here may change a
 * check's outcome.
 */
import type Database from 'better-sqlite3';
import type { Config } from '../../config/resolve.js';
import { NotifyStore } from '../../history/notify-store.js';
import type { CheckReport } from '../../report/json.js';
import { errorMessage } from '../../shared/errors.js';
import { plural } from '../../shared/text.js';
import { notifyRun, type NotifyRunResult } from './deliver.js';

/** Past the run's deadline, delivery may take at most this long. */
export const NOTIFY_GRACE_MS = 1000;

export interface NotifySinkInput {
  /** The history's database (notify-store keeps its own tables there). */
  db: Database.Database;
  config: Config;
  report: CheckReport;
  /** Epoch ms of the run's deadline. */
  deadline: number;
  /** One line per problem, e.g. to stderr. */
  warn: (line: string) => void;
}

export async function runNotifySink({ db, config, report, deadline, warn }: NotifySinkInput): Promise<NotifyRunResult | undefined> {
  if (config.notify.channels.length === 0) return undefined;
  const signal = AbortSignal.timeout(Math.max(0, deadline - Date.now()) + NOTIFY_GRACE_MS);
  try {
    const result = await notifyRun(new NotifyStore(db), config, report, signal);
    for (const c of result.channels) {
      if (c.error) warn(`netdoctor: notify ${c.channel} failed: ${c.error}${c.pending ? `; ${plural(c.pending, 'message')} kept for the next run` : ''}`);
    }
    return result;
  } catch (err) {
    warn(`netdoctor: notifications skipped: ${errorMessage(err)}`);
    return undefined;
  }
}
