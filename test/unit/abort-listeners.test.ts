/**
 * Issue 23: `check` on a busy LAN printed Node's MaxListenersExceededWarning
 * (one abort listener per ping, per DNS question, per AbortSignal.any). These
 * run the real ping and DNS client against 127.0.0.0/8 with one shared signal
 * and fail if the signal ever holds more than one listener, if one is left
 * after, or if Node warns.
 */
import dgram from 'node:dgram';
import { getEventListeners } from 'node:events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { anySignal, onAbort } from '../../src/shared/abort.js';
import { queryDns } from '../../src/probes/net/dns-client.js';
import { pingAll } from '../../src/probes/net/ping.js';

let warnings: string[] = [];
const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
beforeEach(() => {
  warnings = [];
  process.on('warning', onWarning);
});
afterEach(() => {
  process.off('warning', onWarning);
});

/** The most abort listeners `signal` held while `work` ran, sampled on every tick of a 2 ms timer. */
async function peakListeners<T>(signal: AbortSignal, work: Promise<T>): Promise<{ result: T; peak: number }> {
  let peak = 0;
  const sample = setInterval(() => (peak = Math.max(peak, getEventListeners(signal, 'abort').length)), 2);
  try {
    const result = await work;
    return { result, peak };
  } finally {
    clearInterval(sample);
  }
}

/** Lets a queued process 'warning' event be delivered before the test looks. */
const flushWarnings = () => new Promise((res) => setImmediate(res));

describe('one abort listener per signal, whatever the fan-out', () => {
  it('pingAll: 40 loopback addresses, 32 at once, add one listener to the caller signal and leave none', async () => {
    const c = new AbortController();
    const targets = Array.from({ length: 40 }, (_, i) => `127.0.0.${i + 1}`);
    const { result, peak } = await peakListeners(c.signal, pingAll(targets, { count: 2, intervalMs: 50, timeoutMs: 2000, signal: c.signal, concurrency: 32 }));
    expect(result.filter((r) => r.received > 0).length).toBe(40);
    expect(peak).toBe(1);
    expect(getEventListeners(c.signal, 'abort')).toHaveLength(0);
    await flushWarnings();
    expect(warnings).toEqual([]);
  });

  it('pingAll: an abort mid-run stops every ping through that one listener', async () => {
    const c = new AbortController();
    const targets = Array.from({ length: 20 }, (_, i) => `127.0.1.${i + 1}`);
    const running = pingAll(targets, { count: 50, intervalMs: 100, timeoutMs: 10_000, signal: c.signal, concurrency: 20 });
    setTimeout(() => c.abort(), 300);
    const t0 = Date.now();
    const results = await running;
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(results.every((r) => r.error === 'aborted')).toBe(true);
    await flushWarnings();
    expect(warnings).toEqual([]);
  });

  it('queryDns: 40 questions in flight to a silent server share one listener, none left after the abort', async () => {
    const server = dgram.createSocket('udp4');
    await new Promise<void>((res) => server.bind(0, '127.0.0.1', () => res()));
    const port = (server.address() as { port: number }).port;
    try {
      const c = new AbortController();
      const questions = Array.from({ length: 40 }, (_, i) => queryDns({ server: '127.0.0.1', port, name: `h${i}.home`, type: 'A', timeoutMs: 5000, attempts: 1, signal: c.signal }));
      let received = 0;
      await new Promise<void>((res) => server.on('message', () => ++received === 40 && res()));
      expect(getEventListeners(c.signal, 'abort')).toHaveLength(1);
      c.abort();
      const results = await Promise.all(questions);
      expect(results.every((r) => r.outcome === 'aborted')).toBe(true);
      expect(getEventListeners(c.signal, 'abort')).toHaveLength(0);
      await flushWarnings();
      expect(warnings).toEqual([]);
    } finally {
      server.close();
    }
  });

  it('anySignal: 50 of them on one signal warn nothing and dispose removes the listener at once (AbortSignal.any did not)', async () => {
    const run = new AbortController();
    const linked = Array.from({ length: 50 }, () => anySignal([run.signal, new AbortController().signal]));
    expect(getEventListeners(run.signal, 'abort')).toHaveLength(1);
    run.abort('stop');
    expect(linked.every((l) => l.signal.aborted && l.signal.reason === 'stop')).toBe(true);
    const other = new AbortController();
    const some = Array.from({ length: 5 }, () => anySignal([other.signal]));
    for (const s of some) s.dispose();
    expect(getEventListeners(other.signal, 'abort')).toHaveLength(0);
    await flushWarnings();
    expect(warnings).toEqual([]);
  });

  it('onAbort on an aborted signal calls back at once and adds nothing', () => {
    const c = new AbortController();
    c.abort();
    let called = 0;
    onAbort(c.signal, () => called++)();
    expect(called).toBe(1);
    expect(getEventListeners(c.signal, 'abort')).toHaveLength(0);
  });
});
