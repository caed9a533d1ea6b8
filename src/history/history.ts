/**
 * Every run, kept in SQLite for post-incident reports and for the Graphite
 * spool. A run is written in one transaction: it is stored whole or not at
 * all, even if the process is killed mid-write (WAL journal). The schema is
 * versioned with `PRAGMA user_version` and migrated forward on open.
 *
 * Observations are stored as one deflated JSON blob per run: a year of
 * one-minute runs is ~525,000 rows, and reports read observations only for
 * the few runs of an incident. What reports scan — status per run, findings
 * per run — lives in indexed columns.
 */
import { chmodSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import Database from 'better-sqlite3';
import type { Finding } from '../diagnose/types.js';
import type { Observation, ProbeName, Vantage } from '../probes/types.js';
import { errorMessage, UserError } from '../shared/errors.js';
import type { RunStatus } from '../shared/exit-codes.js';
import type { CheckReport } from '../report/json.js';
import { Spool } from './spool.js';

/** Each entry moves the schema from version i to i+1. Never edit a shipped entry; append. */
const MIGRATIONS: string[] = [
  `CREATE TABLE runs (
     id INTEGER PRIMARY KEY,
     started_at INTEGER NOT NULL,          -- epoch ms
     duration_ms INTEGER NOT NULL,
     site TEXT NOT NULL,
     vantage TEXT NOT NULL,
     status TEXT NOT NULL,                 -- ok | warning | critical | unknown
     version TEXT NOT NULL,
     problems INTEGER NOT NULL,            -- findings that are not info: 0 means a healthy run
     probe_status TEXT NOT NULL,           -- JSON {probe: worst observation status}
     observations BLOB NOT NULL            -- deflated JSON array
   );
   CREATE INDEX runs_started_at ON runs(started_at);
   CREATE TABLE findings (
     run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
     key TEXT NOT NULL,
     id TEXT NOT NULL,
     severity TEXT NOT NULL,
     root INTEGER NOT NULL,
     finding TEXT NOT NULL                 -- JSON of the whole finding
   );
   CREATE INDEX findings_run ON findings(run_id);
   CREATE INDEX findings_key ON findings(key, run_id);
   CREATE TABLE spool (
     id INTEGER PRIMARY KEY,
     line TEXT NOT NULL,                   -- carbon plaintext line, with its original timestamp
     queued_at INTEGER NOT NULL
   );
   CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);`,
  // Incident detection scans only the runs that had problems.
  `CREATE INDEX runs_problems ON runs(started_at) WHERE problems > 0;`,
  // Incidents are runs judged critical or warning. runs_problems is not enough
  // for them: an out-of-scope unknown (a probe left out with --only, ddns not
  // configured) counts as a problem, so on many installations every run has one.
  // It holds the status too, so the scan never reads the runs table itself.
  `CREATE INDEX IF NOT EXISTS runs_outages ON runs(started_at, status) WHERE status IN ('critical', 'warning');`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export interface StoredRun {
  id: number;
  startedAt: string;
  durationMs: number;
  site: string;
  vantage: Vantage;
  status: RunStatus;
  version: string;
  problems: number;
  probeStatus: Partial<Record<ProbeName, Observation['status']>>;
}

export interface StoredFinding {
  runId: number;
  key: string;
  id: string;
  severity: Finding['severity'];
  root: boolean;
}

const STATUS_ORDER: Record<Observation['status'], number> = { skipped: 0, ok: 1, error: 2, fail: 3 };

export class History {
  readonly path: string;
  readonly db: Database.Database;
  /** Metric lines waiting for carbon, in the same database. */
  readonly spool: Spool;
  private readonly statements = new Map<string, Database.Statement>();

  private constructor(path: string, db: Database.Database) {
    this.path = path;
    this.db = db;
    this.spool = new Spool(db);
  }

  /** Opens (creating and migrating as needed) the history at `path`; `:memory:` for tests. */
  /**
   * `busyTimeoutMs`: how long to wait for another process holding the
   * database (a `report` reading it); `check` keeps this short so a busy
   * history cannot push it past its deadline.
   */
  static open(path: string, opts: { readonly?: boolean; busyTimeoutMs?: number } = {}): History {
    let db: Database.Database;
    try {
      if (path !== ':memory:' && !opts.readonly) {
        // The history holds addresses and names of the LAN: not for other users' eyes.
        mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      }
      db = new Database(path, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
    } catch (err) {
      throw new UserError(`cannot open the history database ${path}: ${errorMessage(err)}`,
        'Set history.path in netdoctor.yaml to a writable place, or run check with --no-history.');
    }
    try {
      if (!opts.readonly) {
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
        if (path !== ':memory:') {
          try {
            chmodSync(path, 0o600);
          } catch {
            // Not ours to change (e.g. a shared file); permissions stay as they are.
          }
        }
      }
      db.pragma('foreign_keys = ON');
      db.pragma(`busy_timeout = ${Math.max(0, Math.round(opts.busyTimeoutMs ?? 5000))}`);
      const history = new History(path, db);
      if (!opts.readonly) history.migrate();
      else if ((db.pragma('user_version', { simple: true }) as number) > SCHEMA_VERSION) {
        throw new UserError(`the history database ${path} was written by a newer netdoctor (schema ${String(db.pragma('user_version', { simple: true }))}, this one knows ${SCHEMA_VERSION})`);
      }
      return history;
    } catch (err) {
      db.close();
      if (err instanceof UserError) throw err;
      throw new UserError(`cannot use the history database ${path}: ${errorMessage(err)}`,
        'If the disk is full or read-only, free space or set history.path elsewhere; check with --no-history still reports.');
    }
  }

  private migrate(): void {
    const current = this.db.pragma('user_version', { simple: true }) as number;
    if (current > SCHEMA_VERSION) {
      throw new UserError(`the history database ${this.path} was written by a newer netdoctor (schema ${current}, this one knows ${SCHEMA_VERSION})`,
        'Upgrade netdoctor, or point history.path at a new file.');
    }
    for (let v = current; v < SCHEMA_VERSION; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v]);
        this.db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }

  /** Stores one run whole, in one transaction; returns its id. */
  recordRun(report: CheckReport): number {
    const insertRun = this.db.prepare(
      `INSERT INTO runs (started_at, duration_ms, site, vantage, status, version, problems, probe_status, observations)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const insertFinding = this.db.prepare('INSERT INTO findings (run_id, key, id, severity, root, finding) VALUES (?, ?, ?, ?, ?, ?)');
    const probeStatus: Partial<Record<ProbeName, Observation['status']>> = {};
    for (const o of report.observations) {
      const prev = probeStatus[o.probe];
      if (prev === undefined || STATUS_ORDER[o.status] > STATUS_ORDER[prev]) probeStatus[o.probe] = o.status;
    }
    const problems = report.findings.filter((f) => f.severity !== 'info').length;
    return this.db.transaction(() => {
      const { lastInsertRowid } = insertRun.run(
        Date.parse(report.startedAt),
        Math.round(report.durationMs),
        report.site,
        report.vantage,
        report.status,
        report.netdoctor,
        problems,
        JSON.stringify(probeStatus),
        deflateRawSync(Buffer.from(JSON.stringify(report.observations))),
      );
      const runId = Number(lastInsertRowid);
      for (const f of report.findings) insertFinding.run(runId, f.key, f.id, f.severity, f.root ? 1 : 0, encodeFinding(f));
      return runId;
    })();
  }

  /**
   * Stores many runs in one transaction, each exactly as {@link recordRun}
   * stores it (a nested transaction is a savepoint). For imports and for
   * generating long histories: one commit instead of one per run.
   */
  recordRuns(reports: readonly CheckReport[]): number[] {
    return this.db.transaction(() => reports.map((r) => this.recordRun(r)))();
  }

  /** Deletes runs older than `keepMs` before `now`; returns how many went. */
  prune(keepMs: number, now = Date.now()): number {
    return this.db.prepare('DELETE FROM runs WHERE started_at < ?').run(now - keepMs).changes;
  }

  runCount(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM runs').get() as { n: number }).n;
  }

  /** Runs in [from, to) by start time, oldest first, without their observations. */
  runs(opts: { from?: number; to?: number; limit?: number } = {}): StoredRun[] {
    const rows = this.db
      .prepare(
        `SELECT id, started_at, duration_ms, site, vantage, status, version, problems, probe_status FROM runs
         WHERE started_at >= ? AND started_at < ? ORDER BY started_at LIMIT ?`,
      )
      .all(opts.from ?? 0, opts.to ?? Number.MAX_SAFE_INTEGER, opts.limit ?? -1) as RunRow[];
    return rows.map(toStoredRun);
  }

  run(id: number): StoredRun | undefined {
    const row = this.db
      .prepare('SELECT id, started_at, duration_ms, site, vantage, status, version, problems, probe_status FROM runs WHERE id = ?')
      .get(id) as RunRow | undefined;
    return row && toStoredRun(row);
  }

  observationsOf(runId: number): Observation[] {
    const row = this.db.prepare('SELECT observations FROM runs WHERE id = ?').get(runId) as { observations: Buffer } | undefined;
    return row ? (JSON.parse(inflateRawSync(row.observations).toString('utf8')) as Observation[]) : [];
  }

  findingsOf(runId: number): Finding[] {
    const rows = this.db.prepare('SELECT finding FROM findings WHERE run_id = ? ORDER BY rowid').all(runId) as Array<{ finding: StoredJson }>;
    return rows.map((r) => decodeFinding(r.finding));
  }

  // --- reads for incident reports ---------------------------------------------

  /**
   * Runs judged critical or warning, oldest first, without their
   * observations: a scan of the partial index runs_outages alone. (A
   * history opened read-only at an older schema lacks that index; the
   * query then falls back to runs_problems.)
   */
  outageRuns(opts: { from?: number; to?: number } = {}): RunMark[] {
    const where = this.hasIndex('runs_outages') ? 'INDEXED BY runs_outages WHERE' : 'INDEXED BY runs_problems WHERE problems > 0 AND';
    return this.db
      .prepare(
        `SELECT id, started_at AS at, status FROM runs ${where}
         status IN ('critical', 'warning') AND started_at >= ? AND started_at < ? ORDER BY started_at`,
      )
      .all(opts.from ?? 0, opts.to ?? Number.MAX_SAFE_INTEGER) as RunMark[];
  }

  /** How many runs judged ok started strictly between `after` and `before`, counting no further than `limit`. */
  okRunsBetween(after: number, before: number, limit: number): number {
    // Asked once per pair of consecutive bad runs, which are mostly neighbours: the bare
    // index probe answers those; only a real gap pays for reading statuses.
    if (this.cached('SELECT 1 FROM runs WHERE started_at > ? AND started_at < ? LIMIT 1').get(after, before) === undefined) return 0;
    return this.cached(`SELECT 1 FROM runs WHERE started_at > ? AND started_at < ? AND status = 'ok' LIMIT ?`).raw().all(after, before, limit).length;
  }

  /** The last run that started before `at`. */
  runBefore(at: number): RunMark | undefined {
    return this.cached('SELECT id, started_at AS at, status FROM runs WHERE started_at < ? ORDER BY started_at DESC LIMIT 1').get(at) as RunMark | undefined;
  }

  /** The first run judged ok that started after `at`. */
  firstOkRunAfter(at: number): RunMark | undefined {
    return this.db
      .prepare(`SELECT id, started_at AS at, status FROM runs WHERE started_at > ? AND status = 'ok' ORDER BY started_at LIMIT 1`)
      .get(at) as RunMark | undefined;
  }

  /** The findings' indexed columns (not their JSON) for the runs that started in [from, to], by start time. */
  findingMarks(from: number, to: number): FindingMark[] {
    return (
      this
        .cached(
          `SELECT f.run_id AS runId, r.started_at AS at, f.key, f.id, f.severity, f.root
           FROM runs r JOIN findings f ON f.run_id = r.id
           WHERE r.started_at >= ? AND r.started_at <= ? ORDER BY r.started_at, f.rowid`,
        )
        .all(from, to) as Array<Omit<FindingMark, 'root'> & { root: number }>
    ).map((m) => ({ ...m, root: m.root === 1 }));
  }

  /**
   * Per finding key over the runs that started in [from, to]: worst severity,
   * in how many runs, in how many of them as a root, first sighting. Summed
   * in SQL: listing a year's incidents then never builds a row per finding.
   */
  findingTotals(from: number, to: number): FindingTotal[] {
    return this.cached(
      `SELECT f.key, min(f.id) AS id,
              min(CASE f.severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 WHEN 'unknown' THEN 2 ELSE 3 END) AS severityRank,
              count(*) AS runs, sum(f.root) AS rootRuns, min(r.started_at) AS firstAt
       FROM runs r JOIN findings f ON f.run_id = r.id
       WHERE r.started_at >= ? AND r.started_at <= ? GROUP BY f.key`,
    ).all(from, to) as FindingTotal[];
  }

  /** A finding as the first run in [from, to] that had it recorded it. */
  firstFindingOf(key: string, from: number, to: number): Finding | undefined {
    const row = this.cached(
      // Runs in time order outside (CROSS JOIN keeps it so), the (key, run_id) index inside:
      // it stops at the first run that had the key, however often the key recurs over the year.
      `SELECT f.finding FROM runs r CROSS JOIN findings f INDEXED BY findings_key
       WHERE r.started_at >= ? AND r.started_at <= ? AND f.key = ? AND f.run_id = r.id ORDER BY r.started_at LIMIT 1`,
    ).get(from, to, key) as { finding: StoredJson } | undefined;
    return row ? decodeFinding(row.finding) : undefined;
  }

  /** One finding as it was recorded in one run. */
  findingOf(runId: number, key: string): Finding | undefined {
    const row = this.cached('SELECT finding FROM findings WHERE key = ? AND run_id = ?').get(key, runId) as { finding: StoredJson } | undefined;
    return row ? decodeFinding(row.finding) : undefined;
  }

  /** Start times of up to `count` runs on each side of `at`: how often checks ran around then. */
  startTimesAround(at: number, count: number): number[] {
    const before = this.cached('SELECT started_at AS at FROM runs WHERE started_at < ? ORDER BY started_at DESC LIMIT ?').all(at, count) as Array<{ at: number }>;
    const after = this.cached('SELECT started_at AS at FROM runs WHERE started_at >= ? ORDER BY started_at LIMIT ?').all(at, count) as Array<{ at: number }>;
    return [...before.reverse(), ...after].map((r) => r.at);
  }

  /** First and last start time and the number of runs, or undefined for an empty history. */
  span(): { first: number; last: number; runs: number } | undefined {
    const row = this.cached('SELECT min(started_at) AS first, max(started_at) AS last, count(*) AS runs FROM runs').get() as { first: number | null; last: number | null; runs: number };
    return row.first === null || row.last === null ? undefined : { first: row.first, last: row.last, runs: row.runs };
  }

  /**
   * Prepared once per connection: incident detection asks some of these
   * once per bad run (tens of thousands on a long history), and preparing
   * costs more than running them.
   */
  private cached(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) this.statements.set(sql, (s = this.db.prepare(sql)));
    return s;
  }

  private hasIndex(name: string): boolean {
    return this.cached("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?").get(name) !== undefined;
  }

  /** The history's meta counters (e.g. spool_dropped). */
  meta(key: string): string | undefined {
    return (this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/** A run as incident detection sees it: when, and the verdict. */
export interface RunMark {
  id: number;
  /** Epoch ms the run started. */
  at: number;
  status: RunStatus;
}

/** One finding key summed over a stretch of runs. */
export interface FindingTotal {
  key: string;
  id: string;
  /** 0 critical, 1 warning, 2 unknown, 3 info: the worst it had. */
  severityRank: number;
  runs: number;
  rootRuns: number;
  firstAt: number;
}

/** One finding of one run, from the indexed columns only. */
export interface FindingMark {
  runId: number;
  /** Epoch ms the run started. */
  at: number;
  key: string;
  id: string;
  severity: Finding['severity'];
  root: boolean;
}

/**
 * Findings are stored deflated: their explanations and fix snippets are the
 * bulk of a run with problems (~14 KB of text for the seed's outage, ~6 KB
 * deflated), and an installation with a probe it cannot judge stores a few
 * of them every run. Rows written by the first versions hold plain JSON text;
 * both read back the same.
 */
type StoredJson = string | Buffer;

function encodeFinding(f: Finding): Buffer {
  return deflateRawSync(Buffer.from(JSON.stringify(f)));
}

function decodeFinding(stored: StoredJson): Finding {
  const text = typeof stored === 'string' ? stored : inflateRawSync(stored).toString('utf8');
  return JSON.parse(text) as Finding;
}

interface RunRow {
  id: number;
  started_at: number;
  duration_ms: number;
  site: string;
  vantage: string;
  status: string;
  version: string;
  problems: number;
  probe_status: string;
}

function toStoredRun(r: RunRow): StoredRun {
  return {
    id: r.id,
    startedAt: new Date(r.started_at).toISOString(),
    durationMs: r.duration_ms,
    site: r.site,
    vantage: r.vantage as Vantage,
    status: r.status as RunStatus,
    version: r.version,
    problems: r.problems,
    probeStatus: JSON.parse(r.probe_status) as StoredRun['probeStatus'],
  };
}
