/**
 * The Graphite spool: metric lines carbon has not taken yet, kept in the
 * history's database (table `spool`) so they survive until the next run.
 */
import type Database from 'better-sqlite3';

/** Lines waiting for carbon, oldest first; bounded, dropping the oldest. */
export class Spool {
  constructor(private readonly db: Database.Database) {}

  /**
   * Queues metric lines that could not be delivered. Keeps at most `max`
   * lines, dropping the oldest; returns how many were dropped so the caller
   * can say so.
   */
  add(lines: readonly string[], max: number, now = Date.now()): number {
    if (lines.length === 0) return 0;
    const insert = this.db.prepare('INSERT INTO spool (line, queued_at) VALUES (?, ?)');
    return this.db.transaction(() => {
      for (const line of lines) insert.run(line, now);
      const excess = this.size() - max;
      if (excess <= 0) return 0;
      this.db.prepare('DELETE FROM spool WHERE id IN (SELECT id FROM spool ORDER BY id LIMIT ?)').run(excess);
      bumpMeta(this.db, 'spool_dropped', excess);
      return excess;
    })();
  }

  /** The oldest spooled lines, with the id of the last one (for {@link remove}). */
  oldest(limit: number): { lines: string[]; upToId: number } {
    const rows = this.db.prepare('SELECT id, line FROM spool ORDER BY id LIMIT ?').all(limit) as Array<{ id: number; line: string }>;
    return { lines: rows.map((r) => r.line), upToId: rows.length ? rows[rows.length - 1].id : 0 };
  }

  /** Removes spooled lines once carbon has them. */
  remove(upToId: number): void {
    this.db.prepare('DELETE FROM spool WHERE id <= ?').run(upToId);
  }

  /** How many lines wait. */
  size(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM spool').get() as { n: number }).n;
  }
}

/** Adds `by` to the integer counter `key` of the history's meta table. */
export function bumpMeta(db: Database.Database, key: string, by: number): void {
  db.prepare(`INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + excluded.value`).run(key, String(by));
}
