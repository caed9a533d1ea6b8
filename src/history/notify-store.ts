/**
 * The notification state and outbox, in the history's SQLite database but in
 * tables of their own with their own schema version (notify_schema), so they
 * migrate independently of the run history. The state is one JSON document
 * (see sinks/notify/transitions.ts); the outbox holds deliveries that have not
 * arrived yet, bounded per channel (the oldest go first).
 */
import type Database from 'better-sqlite3';
import type { NotifyState } from '../sinks/notify/transitions.js';

/** Each entry moves the notify tables from version i to i+1. Never edit a shipped entry; append. */
const MIGRATIONS: string[] = [
  `CREATE TABLE notify_state (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     state TEXT NOT NULL,                  -- JSON NotifyState
     updated_at INTEGER NOT NULL
   );
   CREATE TABLE notify_outbox (
     id INTEGER PRIMARY KEY,
     channel TEXT NOT NULL,                -- channel id (name, or type:host)
     kind TEXT NOT NULL,                   -- message: a NotificationMessage; alerts: ended Alertmanager alerts
     payload TEXT NOT NULL,                -- JSON, never a secret
     queued_at INTEGER NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0,
     last_error TEXT
   );
   CREATE INDEX notify_outbox_channel ON notify_outbox(channel, id);`,
];

export const NOTIFY_SCHEMA_VERSION = MIGRATIONS.length;
/** Deliveries kept per channel while it is down; a channel down for days keeps its latest messages. */
export const OUTBOX_MAX_PER_CHANNEL = 50;

export interface OutboxEntry {
  id: number;
  channel: string;
  kind: 'message' | 'alerts';
  payload: string;
  queuedAt: number;
  attempts: number;
  lastError?: string;
}

export class NotifyStore {
  constructor(private readonly db: Database.Database) {
    this.migrate();
  }

  private migrate(): void {
    this.db.exec('CREATE TABLE IF NOT EXISTS notify_schema (version INTEGER NOT NULL)');
    const row = this.db.prepare('SELECT version FROM notify_schema').get() as { version: number } | undefined;
    const current = row?.version ?? 0;
    if (current > NOTIFY_SCHEMA_VERSION) {
      throw new Error(`the notification tables were written by a newer netdoctor (schema ${current}, this one knows ${NOTIFY_SCHEMA_VERSION})`);
    }
    for (let v = current; v < NOTIFY_SCHEMA_VERSION; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v]);
        this.db.prepare('DELETE FROM notify_schema').run();
        this.db.prepare('INSERT INTO notify_schema (version) VALUES (?)').run(v + 1);
      })();
    }
  }

  loadState(): NotifyState | undefined {
    const row = this.db.prepare('SELECT state FROM notify_state WHERE id = 1').get() as { state: string } | undefined;
    return row ? (JSON.parse(row.state) as NotifyState) : undefined;
  }

  /** Saves the state and queues deliveries in one transaction: a message is never told without being queued. */
  commit(state: NotifyState, queue: ReadonlyArray<Pick<OutboxEntry, 'channel' | 'kind' | 'payload'>>, now = Date.now()): void {
    const insert = this.db.prepare('INSERT INTO notify_outbox (channel, kind, payload, queued_at) VALUES (?, ?, ?, ?)');
    const trim = this.db.prepare(
      `DELETE FROM notify_outbox WHERE channel = ? AND id NOT IN
         (SELECT id FROM notify_outbox WHERE channel = ? ORDER BY id DESC LIMIT ${OUTBOX_MAX_PER_CHANNEL})`,
    );
    this.db.transaction(() => {
      this.db.prepare('INSERT INTO notify_state (id, state, updated_at) VALUES (1, ?, ?) ON CONFLICT(id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at')
        .run(JSON.stringify(state), now);
      for (const q of queue) insert.run(q.channel, q.kind, q.payload, now);
      for (const channel of new Set(queue.map((q) => q.channel))) trim.run(channel, channel);
    })();
  }

  /** A channel's queued deliveries, oldest first. */
  pending(channel: string): OutboxEntry[] {
    const rows = this.db.prepare('SELECT id, channel, kind, payload, queued_at, attempts, last_error FROM notify_outbox WHERE channel = ? ORDER BY id').all(channel) as Array<{
      id: number; channel: string; kind: 'message' | 'alerts'; payload: string; queued_at: number; attempts: number; last_error: string | null;
    }>;
    return rows.map((r) => ({ id: r.id, channel: r.channel, kind: r.kind, payload: r.payload, queuedAt: r.queued_at, attempts: r.attempts, ...(r.last_error ? { lastError: r.last_error } : {}) }));
  }

  delivered(ids: readonly number[]): void {
    const del = this.db.prepare('DELETE FROM notify_outbox WHERE id = ?');
    this.db.transaction(() => ids.forEach((id) => del.run(id)))();
  }

  /** Marks entries as tried once more; `error` must already be free of secrets. */
  failed(ids: readonly number[], error: string): void {
    const upd = this.db.prepare('UPDATE notify_outbox SET attempts = attempts + 1, last_error = ? WHERE id = ?');
    this.db.transaction(() => ids.forEach((id) => upd.run(error, id)))();
  }

  /** Drops what is queued for channels no longer configured. */
  forgetChannelsExcept(channels: readonly string[]): number {
    const all = this.db.prepare('SELECT DISTINCT channel FROM notify_outbox').all() as Array<{ channel: string }>;
    const del = this.db.prepare('DELETE FROM notify_outbox WHERE channel = ?');
    let n = 0;
    for (const { channel } of all) if (!channels.includes(channel)) n += del.run(channel).changes;
    return n;
  }
}
