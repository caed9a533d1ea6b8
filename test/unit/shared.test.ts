import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../src/shared/duration.js';
import { broadcastOf, hostAddresses, inSubnet, isIPv4, maskToPrefix, parseCidr, reverseName } from '../../src/shared/ipv4.js';
import { limiter, mapLimit } from '../../src/shared/limit.js';
import { median } from '../../src/shared/stats.js';
import { closest } from '../../src/shared/suggest.js';
import { humanTime } from '../../src/shared/time.js';
import { sleep, waitFor } from '../../src/shared/wait.js';

describe('durations', () => {
  it.each([
    ['500ms', 500], ['2s', 2000], ['1.5s', 1500], ['5m', 300_000], ['24h', 86_400_000], ['90d', 7_776_000_000], ['10', 10_000], [3, 3000],
  ])('%s is %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));
  it.each(['', 'fast', '2 sec', '-1s', '1e3s'])('%j is not a duration', (text) => expect(parseDuration(text)).toBeUndefined());
  it('formats for people', () => {
    expect([850, 2500, 200_000, 7_500_000].map((ms) => formatDuration(ms))).toEqual(['850ms', '2.5s', '3m20s', '2h5m']);
  });
  it('formats for prose with spaces, latencies with sub-millisecond precision, and says ? when unknown', () => {
    expect([850, 6000, 3120, 200_000, 7_500_000].map((ms) => formatDuration(ms, { spaced: true }))).toEqual(['850 ms', '6 s', '3.1 s', '3 min 20 s', '2 h 5 min']);
    expect([0.0432, 0.4, 2.53, 42.4, 1234].map((ms) => formatDuration(ms, { fine: true }))).toEqual(['0.043ms', '0.4ms', '2.5ms', '42ms', '1.2s']);
    expect(formatDuration(2.53, { spaced: true, fine: true })).toBe('2.5 ms');
    expect([undefined, Number.NaN].map((ms) => formatDuration(ms))).toEqual(['?', '?']);
  });
  it('times of day in UTC, saying so', () => {
    expect(humanTime('2026-11-25T13:58:55.123Z')).toBe('2026-11-25 13:58:55 UTC');
    expect(humanTime('2026-11-25T13:58:55Z')).toBe('2026-11-25 13:58:55 UTC');
  });
  it('medians', () => {
    expect([median([3, 1, 2]), median([4, 1, 3, 2]), median([])]).toEqual([2, 2.5, Number.NaN]);
  });
});

describe('IPv4', () => {
  it('validates addresses strictly', () => {
    expect(['192.168.1.10', '0.0.0.0', '255.255.255.255'].every(isIPv4)).toBe(true);
    expect(['192.168.1.300', '192.168.1', '01.2.3.4', ' 1.2.3.4', '1.2.3.4.5'].some(isIPv4)).toBe(false);
  });
  it('does subnet arithmetic', () => {
    const s = parseCidr('192.168.1.77/24')!;
    expect(s.cidr).toBe('192.168.1.0/24');
    expect(broadcastOf(s)).toBe('192.168.1.255');
    expect(hostAddresses(s)).toHaveLength(254);
    expect(inSubnet('192.168.1.254', s)).toBe(true);
    expect(inSubnet('192.168.2.1', s)).toBe(false);
    expect(maskToPrefix('255.255.252.0')).toBe(22);
    expect(maskToPrefix('255.0.255.0')).toBeUndefined();
    expect(reverseName('192.168.1.10')).toBe('10.1.168.192.in-addr.arpa');
  });
});

describe('did you mean', () => {
  it('suggests close names and nothing for far ones', () => {
    expect(closest('hostz', ['hosts', 'dns'])).toBe('hosts');
    expect(closest('rolse', ['name', 'roles'])).toBe('roles');
    expect(closest('banana', ['hosts', 'dns'])).toBeUndefined();
  });
});

describe('waiting', () => {
  it('sleep ends early, without throwing, when its signal aborts', async () => {
    const ac = new AbortController();
    const t0 = Date.now();
    setTimeout(() => ac.abort(), 20);
    await sleep(60_000, ac.signal);
    expect(Date.now() - t0).toBeLessThan(30_000);
    await sleep(60_000, ac.signal); // already aborted: returns at once
  });

  it('waitFor resolves with the first value that is not undefined or false', async () => {
    let n = 0;
    await expect(waitFor('n to reach 3', () => (++n >= 3 ? n : false), { timeoutMs: 10_000, intervalMs: 1 })).resolves.toBe(3);
  });

  it('waitFor throws, naming what it waited for, when the time is up', async () => {
    await expect(waitFor('the moon', () => undefined, { timeoutMs: 30, intervalMs: 5, detail: () => 'sky: cloudy' }))
      .rejects.toThrow(/^timed out after 30 ms waiting for the moon\nsky: cloudy$/);
  });
});

describe('bounded concurrency', () => {
  it('mapLimit never runs more than the limit at once, and keeps the input order', async () => {
    let running = 0;
    let peak = 0;
    const out = await mapLimit([...Array(20).keys()], 3, async (n) => {
      running++;
      peak = Math.max(peak, running);
      await sleep(5);
      running--;
      return n * 2;
    });
    expect(peak).toBe(3);
    expect(out).toEqual([...Array(20).keys()].map((n) => n * 2));
  });

  it('one limiter bounds tasks from several lists together, and a failing task frees its place', async () => {
    const run = limiter(2);
    let running = 0;
    let peak = 0;
    const task = (fail: boolean) => run(async () => {
      running++;
      peak = Math.max(peak, running);
      await sleep(5);
      running--;
      if (fail) throw new Error('boom');
      return 'ok';
    });
    const a = Promise.allSettled([task(true), task(false), task(false)]);
    const b = Promise.allSettled([task(false), task(true), task(false)]);
    const outcomes = [...(await a), ...(await b)].map((o) => o.status);
    expect(peak).toBe(2);
    expect(outcomes).toEqual(['rejected', 'fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
  });
});
