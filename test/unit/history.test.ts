import { spawn } from 'node:child_process';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { History, SCHEMA_VERSION } from '../../src/history/history.js';
import { sampleReport } from '../support/reports.js';

const tmp = () => join(mkdtempSync(join(tmpdir(), 'nd-history-')), 'sub', 'history.db');

describe('run history', () => {
  it('stores a run whole and reads it back', () => {
    const h = History.open(':memory:');
    const t = Date.parse('2026-11-25T10:00:00Z');
    const id = h.recordRun(sampleReport(t, { broken: true }));
    const run = h.run(id)!;
    expect(run).toMatchObject({ startedAt: '2026-11-25T10:00:00.000Z', status: 'critical', problems: 1, vantage: 'inside' });
    expect(run.probeStatus).toEqual({ dns: 'ok', dhcp: 'fail' });
    expect(h.observationsOf(id).map((o) => o.id)).toEqual(['dns:server:192.168.1.10', 'dhcp:summary:dhcp']);
    expect(h.findingsOf(id).map((f) => f.key)).toEqual(['dhcp-server-missing{iface=eth0}']);
    h.close();
  });

  it('creates the file private to its owner, in WAL mode, at the current schema version', () => {
    const path = tmp();
    History.open(path).close();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const db = new Database(path, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    db.close();
  });

  it('migrates an older schema forward and refuses a newer one', () => {
    const path = tmp();
    History.open(path).close();
    const db = new Database(path);
    db.exec('DROP INDEX runs_problems');
    db.pragma('user_version = 1');
    db.close();
    const h = History.open(path);
    expect(h.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(h.db.prepare("SELECT name FROM sqlite_master WHERE name = 'runs_problems'").get()).toBeTruthy();
    h.db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    h.close();
    expect(() => History.open(path)).toThrow(/written by a newer netdoctor/);
  });

  it('stores findings deflated and still reads rows written as plain JSON', () => {
    const h = History.open(':memory:');
    const id = h.recordRun(sampleReport(Date.parse('2026-11-25T10:00:00Z'), { broken: true }));
    const stored = h.db.prepare('SELECT finding FROM findings WHERE run_id = ?').get(id) as { finding: unknown };
    expect(Buffer.isBuffer(stored.finding)).toBe(true);
    const plain = { ...h.findingsOf(id)[0], key: 'old{row=1}' };
    h.db.prepare('INSERT INTO findings (run_id, key, id, severity, root, finding) VALUES (?, ?, ?, ?, ?, ?)').run(id, plain.key, plain.id, plain.severity, 1, JSON.stringify(plain));
    expect(h.findingsOf(id).map((f) => f.key)).toEqual(['dhcp-server-missing{iface=eth0}', 'old{row=1}']);
    h.close();
  });

  it('prunes runs older than the keep period, with their findings', () => {
    const h = History.open(':memory:');
    const now = Date.parse('2026-11-25T00:00:00Z');
    h.recordRun(sampleReport(now - 100 * 86_400_000, { broken: true }));
    h.recordRun(sampleReport(now - 10 * 86_400_000, { broken: true }));
    expect(h.prune(90 * 86_400_000, now)).toBe(1);
    expect(h.runCount()).toBe(1);
    expect((h.db.prepare('SELECT count(*) AS n FROM findings').get() as { n: number }).n).toBe(1);
  });

  it('bounds the Graphite spool, drops the oldest and counts what it dropped', () => {
    const h = History.open(':memory:');
    expect(h.spool.add(['a 1 1', 'b 1 1', 'c 1 1'], 5)).toBe(0);
    expect(h.spool.add(['d 1 1', 'e 1 1', 'f 1 1'], 5)).toBe(1);
    expect(h.spool.oldest(10).lines).toEqual(['b 1 1', 'c 1 1', 'd 1 1', 'e 1 1', 'f 1 1']);
    expect(h.meta('spool_dropped')).toBe('1');
    const { upToId } = h.spool.oldest(2);
    h.spool.remove(upToId);
    expect(h.spool.oldest(10).lines).toEqual(['d 1 1', 'e 1 1', 'f 1 1']);
  });

  it('an unusable location is a clear error naming the path', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'nd-history-')), 'not-a-dir');
    writeFileSync(file, '');
    expect(() => History.open(join(file, 'history.db'))).toThrow(`cannot open the history database ${join(file, 'history.db')}`);
  });

  it('survives kill -9 mid-write: integrity_check passes and only whole runs are stored', async () => {
    const path = tmp();
    History.open(path).close();
    // The writer runs the built history module (dist/, made by `npm test`'s build step) in a child we can kill.
    const historyJs = new URL('../../dist/history/history.js', import.meta.url).pathname;
    const writer = `
      import { History } from ${JSON.stringify(historyJs)};
      const h = History.open(${JSON.stringify(path)});
      let t = Date.parse('2026-01-01T00:00:00Z') + Math.floor(Math.random() * 1e9);
      const obs = Array.from({ length: 40 }, (_, i) => ({ id: 'dns:query:' + i, probe: 'dns', check: 'query', subject: String(i),
        status: 'ok', reason: 'answered', summary: 'x'.repeat(200), labels: {}, values: { latency_ms: i }, durationMs: 1, at: '' }));
      for (;;) {
        t += 60000;
        // Five findings per run: a half-written run would show fewer.
        const findings = [0, 1, 2, 3, 4].map((i) => ({ id: 'f', key: 'f{i=' + i + '}', severity: 'critical', root: true, title: 't',
          explanation: 'e', impact: 'i', labels: {}, evidence: [], explains: [], suppressedBy: [], fixes: [] }));
        h.recordRun({ netdoctor: 't', site: 'home', vantage: 'inside', startedAt: new Date(t).toISOString(), durationMs: 1,
          status: 'critical', observations: obs, findings });
        process.stdout.write('.');
      }`;
    for (let round = 0; round < 5; round++) {
      const child = spawn(process.execPath, ['--input-type=module', '-e', writer], { stdio: ['ignore', 'pipe', 'inherit'] });
      let written = 0;
      await new Promise<void>((resolve) => {
        const target = 20 + Math.floor(Math.random() * 80);
        child.stdout.on('data', (b: Buffer) => {
          written += b.length;
          if (written >= target) resolve();
        });
        child.once('exit', () => resolve());
      });
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      expect(written).toBeGreaterThan(0);
    }
    const db = new Database(path);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const perRun = db.prepare('SELECT r.id, count(f.key) AS n FROM runs r LEFT JOIN findings f ON f.run_id = r.id GROUP BY r.id').all() as Array<{ n: number }>;
    expect(perRun.length).toBeGreaterThanOrEqual(100);
    expect(perRun.every((r) => r.n === 5)).toBe(true);
    db.close();
    const h = History.open(path);
    for (const run of h.runs({ limit: 5 })) expect(h.observationsOf(run.id)).toHaveLength(40);
    h.close();
  });
});
