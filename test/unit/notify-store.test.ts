import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NOTIFY_SCHEMA_VERSION, NotifyStore, OUTBOX_MAX_PER_CHANNEL } from '../../src/history/notify-store.js';
import { History, SCHEMA_VERSION } from '../../src/history/history.js';
import { EMPTY_STATE } from '../../src/sinks/notify/transitions.js';

describe('notification store', () => {
  it('lives beside the run history in its own tables, with its own version, and survives reopening', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'nd-notify-store-')), 'history.db');
    const h = History.open(path);
    const s = new NotifyStore(h.db);
    s.commit({ ...EMPTY_STATE, lastRunAt: '2026-12-01T08:00:00.000Z' }, [{ channel: 'hook', kind: 'message', payload: '{"kind":"opened"}' }]);
    expect(h.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION); // the history's own version is not touched
    h.close();
    const again = History.open(path);
    const s2 = new NotifyStore(again.db); // migrating twice is a no-op
    expect((again.db.prepare('SELECT version FROM notify_schema').all() as unknown[])).toEqual([{ version: NOTIFY_SCHEMA_VERSION }]);
    expect(s2.loadState()?.lastRunAt).toBe('2026-12-01T08:00:00.000Z');
    expect(s2.pending('hook').map((e) => e.payload)).toEqual(['{"kind":"opened"}']);
    again.close();
  });

  it('keeps at most the newest deliveries per channel; failures are counted, deliveries removed', () => {
    const s = new NotifyStore(History.open(':memory:').db);
    for (let i = 0; i < OUTBOX_MAX_PER_CHANNEL + 5; i++) s.commit(EMPTY_STATE, [{ channel: 'a', kind: 'message', payload: String(i) }, { channel: 'b', kind: 'message', payload: String(i) }]);
    const a = s.pending('a');
    expect(a).toHaveLength(OUTBOX_MAX_PER_CHANNEL);
    expect(a[0].payload).toBe('5');
    s.failed([a[0].id], 'HTTP 500');
    s.failed([a[0].id], 'connection refused');
    expect(s.pending('a')[0]).toMatchObject({ attempts: 2, lastError: 'connection refused' });
    s.delivered([a[0].id]);
    expect(s.pending('a')).toHaveLength(OUTBOX_MAX_PER_CHANNEL - 1);
    expect(s.forgetChannelsExcept(['a'])).toBe(OUTBOX_MAX_PER_CHANNEL);
    expect(s.pending('b')).toEqual([]);
  });
});
